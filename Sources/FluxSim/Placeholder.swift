import FluxCore
// Placeholder: the simulator lands with issue 3.
public enum FluxSimPlaceholder {}
