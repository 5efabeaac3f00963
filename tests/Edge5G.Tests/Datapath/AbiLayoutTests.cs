using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Lab;
using LoxiLb.Edge5G.Tests.Support;

namespace LoxiLb.Edge5G.Tests.Datapath;

/// <summary>
/// The C# mirrors of bpf/include/edge5g_abi.h cannot drift: every [AbiStruct] yields
/// _Static_assert lines on sizeof and offsetof that clang compiles against the header.
/// </summary>
public class AbiLayoutTests
{
    [Fact]
    public void EveryAbiStruct_MatchesTheHeader_SizeAndFieldOffsets()
    {
        var structs = AbiChecks.MirroredStructs(typeof(IfCounters).Assembly)
            .Where(t => t.GetCustomAttribute<AbiStructAttribute>()!.Header == AbiStructAttribute.AbiHeader).ToArray();
        Assert.NotEmpty(structs);
        var result = AbiChecks.CompileAgainstHeader(AbiChecks.Assertions(structs));
        Assert.True(result.Succeeded, result.StandardError);
    }

    [Fact]
    public void LibbpfOptionMirrors_MatchLibbpfAndKernelHeaders()
    {
        var structs = AbiChecks.MirroredStructs(typeof(IfCounters).Assembly)
            .Where(t => t.GetCustomAttribute<AbiStructAttribute>()!.Header != AbiStructAttribute.AbiHeader).ToArray();
        Assert.Contains(structs, t => t.GetCustomAttribute<AbiStructAttribute>()!.CName == "bpf_test_run_opts");
        var headers = structs.Select(t => t.GetCustomAttribute<AbiStructAttribute>()!.Header).Distinct();
        var result = AbiChecks.CompileForHost(headers, AbiChecks.Assertions(structs));
        Assert.True(result.Succeeded, result.StandardError);
    }

    [Fact]
    public void EveryAbiEnum_MatchesTheHeader_MemberValues()
    {
        var enums = AbiChecks.MirroredEnums(typeof(IfCounters).Assembly).ToArray();
        var result = AbiChecks.CompileAgainstHeader(AbiChecks.EnumAssertions(enums));
        Assert.True(result.Succeeded, result.StandardError);
    }

    [Fact]
    public void AMirrorWithAWrongField_FailsTheCheck_NamingTheField()
    {
        var result = AbiChecks.CompileAgainstHeader(AbiChecks.Assertions([typeof(DriftedIfCounters)]));
        Assert.False(result.Succeeded);
        Assert.Contains("DriftedIfCounters.Bytes", result.StandardError);
    }

    /// <summary>
    /// The fingerprint stamped into pinned state is the header's as committed, it ignores
    /// comments and layout (a reworded comment keeps the pins adoptable), and a declaration
    /// that changes, even one of the same size, changes it.
    /// </summary>
    [Fact]
    public void TheAbiFingerprint_IsTheCommittedHeaders_AndOnlyItsDeclarationsCount()
    {
        var header = File.ReadAllText(Path.Combine(RepoPaths.BpfInclude, "edge5g_abi.h"));
        Assert.Equal(AbiFingerprint.Of(header), AbiFingerprint.Current);

        var reworded = header.Replace("/* Flags of struct edge5g_match. */", "/* The flags a match entry carries. */")
            .Replace("struct edge5g_route_key {", "struct   edge5g_route_key\n{");
        Assert.NotEqual(header, reworded);
        Assert.Equal(AbiFingerprint.Current, AbiFingerprint.Of(reworded));

        // A field renamed (same size, other meaning) is another ABI.
        var renamed = header.Replace("__u32 prefixlen;", "__u32 prefix_bits;");
        Assert.NotEqual(header, renamed);
        Assert.NotEqual(AbiFingerprint.Current, AbiFingerprint.Of(renamed));
    }

    [AbiStruct("edge5g_if_counters")]
    [StructLayout(LayoutKind.Sequential)]
    private struct DriftedIfCounters
    {
        public ulong Packets;
        public uint Bytes; // the header says __u64
    }
}

internal static class AbiChecks
{
    public static IEnumerable<Type> MirroredStructs(Assembly assembly) =>
        assembly.GetTypes().Where(t => t.GetCustomAttribute<AbiStructAttribute>() is not null);

    public static IEnumerable<Type> MirroredEnums(Assembly assembly) =>
        assembly.GetTypes().Where(t => t.IsEnum && t.GetCustomAttribute<AbiEnumAttribute>() is not null);

    public static string Assertions(IEnumerable<Type> structs)
    {
        var sb = new StringBuilder();
        foreach (var type in structs)
        {
            var abi = type.GetCustomAttribute<AbiStructAttribute>()!;
            var c = "struct " + abi.CName;
            if (!abi.LeadingFieldsOnly)
                sb.AppendLine($"_Static_assert(sizeof({c}) == {Marshal.SizeOf(type)}, \"{type.Name}: sizeof\");");
            foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
            {
                var name = field.GetCustomAttribute<AbiFieldAttribute>()?.CName ?? SnakeCase(field.Name);
                if (name.Length == 0)
                    continue; // unnamed padding: covered by sizeof
                var offset = Marshal.OffsetOf(type, field.Name).ToInt32();
                var size = FieldSize(field);
                sb.AppendLine($"_Static_assert(offsetof({c}, {name}) == {offset}, \"{type.Name}.{field.Name}: offset of {name}\");");
                sb.AppendLine($"_Static_assert(sizeof((({c} *)0)->{name}) == {size}, \"{type.Name}.{field.Name}: size of {name}\");");
            }
        }
        return sb.ToString();
    }

    public static string EnumAssertions(IEnumerable<Type> enums)
    {
        var sb = new StringBuilder();
        foreach (var type in enums)
        {
            var prefix = type.GetCustomAttribute<AbiEnumAttribute>()!.CPrefix;
            foreach (var name in Enum.GetNames(type))
            {
                var value = Convert.ToUInt64(Enum.Parse(type, name));
                var cName = prefix + SnakeCase(name).ToUpperInvariant();
                sb.AppendLine($"_Static_assert({cName} == {value}ULL, \"{type.Name}.{name}: {cName}\");");
            }
        }
        return sb.ToString();
    }

    private static int FieldSize(FieldInfo field)
    {
        var fixedBuffer = field.GetCustomAttribute<System.Runtime.CompilerServices.FixedBufferAttribute>();
        if (fixedBuffer is not null)
            return Marshal.SizeOf(fixedBuffer.ElementType) * fixedBuffer.Length;
        var t = field.FieldType.IsEnum ? Enum.GetUnderlyingType(field.FieldType) : field.FieldType;
        return Marshal.SizeOf(t);
    }

    public static string SnakeCase(string name)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < name.Length; i++)
        {
            var ch = name[i];
            if (char.IsUpper(ch) && i > 0 && (char.IsLower(name[i - 1]) || char.IsDigit(name[i - 1])
                || (i + 1 < name.Length && char.IsLower(name[i + 1]) && char.IsUpper(name[i - 1]))))
                sb.Append('_');
            sb.Append(char.ToLowerInvariant(ch));
        }
        return sb.ToString();
    }

    /// <summary>Compiles the assertions as the BPF programs see the header (clang -target bpf).</summary>
    public static CommandResult CompileAgainstHeader(string assertions) =>
        Compile("#include <stddef.h>\n#include \"edge5g_abi.h\"\n" + assertions, ["-target", "bpf"]);

    /// <summary>Compiles the assertions for the host, against system headers (libbpf, kernel uapi).</summary>
    public static CommandResult CompileForHost(IEnumerable<string> headers, string assertions) =>
        Compile("#include <stddef.h>\n#include <linux/types.h>\n" + string.Concat(headers.Select(h => $"#include <{h}>\n")) + assertions, []);

    private static CommandResult Compile(string source, string[] targetArgs)
    {
        var file = Path.Combine(Path.GetTempPath(), $"edge5g-abi-{Guid.NewGuid():N}.c");
        File.WriteAllText(file, source);
        try
        {
            return ProcessRunner.Run("clang",
                [.. targetArgs, "-fsyntax-only", "-Wall", "-Werror", "-I", RepoPaths.BpfInclude, "-I/usr/include/x86_64-linux-gnu", file],
                check: false);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
