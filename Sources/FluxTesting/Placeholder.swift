import FluxCore
import FluxRedis
// Placeholder: test helpers land with issues 2 and 3.
public enum FluxTestingPlaceholder {}
