namespace LoxiLb.Edge5G.Pfcp.Wire;

/// <summary>
/// Immutable bytes with value equality, so records holding raw IE content compare by content.
/// default(OctetString) is the empty string.
/// </summary>
public readonly struct OctetString : IEquatable<OctetString>
{
    private readonly byte[]? _bytes;

    public OctetString(ReadOnlySpan<byte> bytes) => _bytes = bytes.IsEmpty ? null : bytes.ToArray();

    private OctetString(byte[] owned, bool _) => _bytes = owned.Length == 0 ? null : owned;

    public static OctetString Empty => default;

    /// <summary>Wraps an array the caller promises not to change afterwards.</summary>
    internal static OctetString Own(byte[] bytes) => new(bytes, true);

    public static OctetString FromAscii(string text) => Own(System.Text.Encoding.ASCII.GetBytes(text));

    public static OctetString FromHex(string hex) => Own(Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal)));

    public ReadOnlySpan<byte> Span => _bytes;
    public ReadOnlyMemory<byte> Memory => _bytes;
    public int Length => _bytes?.Length ?? 0;
    public bool IsEmpty => Length == 0;
    public byte this[int index] => Span[index];

    public byte[] ToArray() => Span.ToArray();

    /// <summary>The bytes as ASCII/Latin-1 text (one char per byte), for printable identifiers.</summary>
    public string ToLatin1() => System.Text.Encoding.Latin1.GetString(Span);

    public static implicit operator OctetString(byte[] bytes) => new(bytes);

    public bool Equals(OctetString other) => Span.SequenceEqual(other.Span);
    public override bool Equals(object? obj) => obj is OctetString other && Equals(other);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.AddBytes(Span);
        return hash.ToHashCode();
    }

    public static bool operator ==(OctetString left, OctetString right) => left.Equals(right);
    public static bool operator !=(OctetString left, OctetString right) => !left.Equals(right);

    public override string ToString() => Convert.ToHexString(Span);
}
