namespace LoxiLb.Edge5G.Datapath.Abi;

/// <summary>
/// Marks a C# struct as the mirror of a C struct in bpf/include/edge5g_abi.h. A test compiles
/// _Static_assert(sizeof/offsetof) lines derived from every marked struct against the header.
/// </summary>
[AttributeUsage(AttributeTargets.Struct)]
public sealed class AbiStructAttribute(string cName) : Attribute
{
    /// <summary>The C struct tag, without "struct".</summary>
    public string CName { get; } = cName;
}

/// <summary>The C field name when it is not the snake_case of the C# name.</summary>
[AttributeUsage(AttributeTargets.Field)]
public sealed class AbiFieldAttribute(string cName) : Attribute
{
    public string CName { get; } = cName;
}
