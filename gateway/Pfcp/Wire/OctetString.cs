namespace LoxiLb.Edge5G.Pfcp.Wire;

/// <summary>
/// Immutable bytes with value equality, so records holding raw IE content compare by content.
/// default(OctetString) is the empty string. It may be a slice of a larger array nobody changes
/// (a received message's IEs all share one copy of the message instead of one array each).
/// </summary>
public readonly struct OctetString : IEquatable<OctetString>
{
    private readonly byte[]? _bytes;
    private readonly int _offset, _length;

    public OctetString(ReadOnlySpan<byte> bytes)
    {
        _bytes = bytes.IsEmpty ? null : bytes.ToArray();
        _length = bytes.Length;
    }

    private OctetString(byte[] owned, int offset, int length)
    {
        _bytes = length == 0 ? null : owned;
        _offset = length == 0 ? 0 : offset;
        _length = length;
    }

    public static OctetString Empty => default;

    /// <summary>Wraps an array the caller promises not to change afterwards.</summary>
    internal static OctetString Own(byte[] bytes) => new(bytes, 0, bytes.Length);

    /// <summary>A view of part of an array the caller promises not to change afterwards.</summary>
    internal static OctetString Slice(byte[] bytes, int offset, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, bytes.Length - offset);
        return new(bytes, offset, length);
    }

    public static OctetString FromAscii(string text) => Own(System.Text.Encoding.ASCII.GetBytes(text));

    public static OctetString FromHex(string hex) => Own(Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal)));

    public ReadOnlySpan<byte> Span => _bytes is null ? default : new ReadOnlySpan<byte>(_bytes, _offset, _length);
    public ReadOnlyMemory<byte> Memory => _bytes is null ? default : new ReadOnlyMemory<byte>(_bytes, _offset, _length);
    public int Length => _length;
    public bool IsEmpty => Length == 0;
    public byte this[int index] => Span[index];

    public byte[] ToArray() => Span.ToArray();

    /// <summary>
    /// The same octets in an array of their own when this is a slice of a larger one: for values
    /// kept longer than the message they came in (interned names, rules a session holds), so
    /// they do not keep the whole message alive.
    /// </summary>
    public OctetString Compact() => IsCompact ? this : new OctetString(Span);

    /// <summary>True when the octets are a whole array of their own (or empty), not a slice of a larger one.</summary>
    public bool IsCompact => _bytes is null || (_offset == 0 && _length == _bytes.Length);

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
