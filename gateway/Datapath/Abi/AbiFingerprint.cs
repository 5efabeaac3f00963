using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace LoxiLb.Edge5G.Datapath.Abi;

/// <summary>
/// A 64-bit fingerprint of bpf/include/edge5g_abi.h as this build embedded it: comments and
/// layout removed, so only declarations count. Pinned maps carry the fingerprint of the build
/// that created them (the abi_stamp map); a restarted gateway adopts them only when it is its
/// own. The shape check (key and value sizes) misses a field that changed meaning but not
/// size; this does not.
/// </summary>
public static partial class AbiFingerprint
{
    public const string Resource = "bpf/include/edge5g_abi.h";

    public static ulong Current { get; } = Of(ReadEmbedded());

    /// <summary>The fingerprint of header text: SHA-256 of its declarations, first 8 bytes, big-endian.</summary>
    public static ulong Of(string header)
    {
        var declarations = Whitespace().Replace(Comments().Replace(header, " "), " ").Trim();
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(declarations));
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(hash);
    }

    private static string ReadEmbedded()
    {
        using var stream = typeof(AbiFingerprint).Assembly.GetManifestResourceStream(Resource)
            ?? throw new InvalidOperationException($"the build did not embed {Resource} (bpf/Bpf.targets)");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    [GeneratedRegex(@"/\*.*?\*/|//[^\n]*", RegexOptions.Singleline)]
    private static partial Regex Comments();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
