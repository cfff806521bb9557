// Placeholder: the scheduling core lands with issue 3.
public enum FluxCorePlaceholder {}
