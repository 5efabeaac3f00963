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

    /// <summary>The header that defines it; libbpf's option structs are mirrored the same way.</summary>
    public string Header { get; init; } = AbiHeader;

    /// <summary>True when the mirror covers only the leading fields (sizeof is not compared).</summary>
    public bool LeadingFieldsOnly { get; init; }

    public const string AbiHeader = "edge5g_abi.h";
}

/// <summary>The C field name when it is not the snake_case of the C# name; "" for an unnamed (padding) field.</summary>
[AttributeUsage(AttributeTargets.Field)]
public sealed class AbiFieldAttribute(string cName) : Attribute
{
    public string CName { get; } = cName;
}

/// <summary>
/// Marks a C# enum as the mirror of a C enum in edge5g_abi.h: member Name maps to
/// CPrefix + NAME in UPPER_SNAKE case, and the test checks every value.
/// </summary>
[AttributeUsage(AttributeTargets.Enum)]
public sealed class AbiEnumAttribute(string cPrefix) : Attribute
{
    public string CPrefix { get; } = cPrefix;
}
