using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using LoxiLb.Edge5G.Bpf.Interop;

namespace LoxiLb.Edge5G.Bpf;

/// <summary>
/// A BPF ELF object that has been opened (parsed by libbpf) but not loaded: the phase in
/// which read-only constants and map sizes can still be changed. <see cref="Load"/> turns it
/// into a <see cref="BpfObject"/>; the spec cannot be used after that.
/// </summary>
public sealed unsafe class BpfObjectSpec : IDisposable
{
    private BpfObjectHandle? _handle;
    private readonly Dictionary<string, string> _reusedPins = new(StringComparer.Ordinal);

    private BpfObjectSpec(BpfObjectHandle handle, string name)
    {
        _handle = handle;
        Name = name;
    }

    /// <summary>Object name, e.g. "gtp.bpf.o"; used in every error message.</summary>
    public string Name { get; }

    /// <summary>Names of the objects compiled from bpf/ and embedded in the gateway.</summary>
    public static IReadOnlyList<string> EmbeddedObjects { get; } =
        typeof(BpfObjectSpec).Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith("bpf/", StringComparison.Ordinal) && n.EndsWith(".o", StringComparison.Ordinal))
            .Select(n => n["bpf/".Length..])
            .Order(StringComparer.Ordinal)
            .ToArray();

    /// <summary>Opens an object compiled from bpf/, by its path below bpf/, e.g. "gtp/gtp.bpf.o".</summary>
    public static BpfObjectSpec OpenEmbedded(string relativePath)
    {
        using var stream = typeof(BpfObjectSpec).Assembly.GetManifestResourceStream("bpf/" + relativePath)
            ?? throw new BpfException($"open embedded BPF object '{relativePath}'", 0,
                $"no such object is embedded (embedded: {string.Join(", ", EmbeddedObjects)})");
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return OpenMemory(bytes, Path.GetFileName(relativePath));
    }

    /// <summary>Opens a BPF ELF object file.</summary>
    public static BpfObjectSpec OpenFile(string path)
    {
        var operation = $"open BPF object file '{path}'";
        if (!File.Exists(path))
            throw new BpfException(operation, 2 /* ENOENT */, "the file does not exist; expected a BPF ELF object built from bpf/");
        LibBpfLog.EnsureInstalled();
        using var log = LibBpfLog.Capture();
        var obj = LibBpf.bpf_object__open_file(path, null);
        if (obj == 0)
            throw new BpfException(operation, BpfException.LastErrno(), "libbpf could not parse it as a BPF ELF object", log.Text);
        return new BpfObjectSpec(new BpfObjectHandle(obj), Path.GetFileName(path));
    }

    /// <summary>Opens a BPF ELF object held in memory (libbpf parses it before this returns).</summary>
    public static BpfObjectSpec OpenMemory(ReadOnlySpan<byte> elf, string name)
    {
        var operation = $"open BPF object '{name}'";
        var objectName = Encoding.UTF8.GetBytes(ObjectNameFor(name) + "\0");
        using var log = LibBpfLog.Capture();
        nint obj;
        fixed (byte* data = elf)
        fixed (byte* namePtr = objectName)
        {
            var opts = new BpfObjectOpenOpts { Size = (nuint)sizeof(BpfObjectOpenOpts), ObjectName = namePtr };
            obj = LibBpf.bpf_object__open_mem(data, (nuint)elf.Length, &opts);
        }
        if (obj == 0)
            throw new BpfException(operation, BpfException.LastErrno(), "libbpf could not parse it as a BPF ELF object", log.Text);
        return new BpfObjectSpec(new BpfObjectHandle(obj), name);
    }

    // libbpf derives internal map names (".rodata" etc.) from the object name; keep it short
    // and free of dots as open_file would ("gtp.bpf.o" -> "gtp").
    private static string ObjectNameFor(string name) => name.Split('.')[0];

    private nint Obj => (_handle ?? throw new ObjectDisposedException(Name, "the spec was loaded or disposed")).DangerousGetHandle();

    public IReadOnlyList<string> ProgramNames
    {
        get
        {
            var names = new List<string>();
            for (var p = LibBpf.bpf_object__next_program(Obj, 0); p != 0; p = LibBpf.bpf_object__next_program(Obj, p))
                names.Add(Marshal.PtrToStringUTF8((nint)LibBpf.bpf_program__name(p))!);
            return names;
        }
    }

    public IReadOnlyList<string> MapNames
    {
        get
        {
            var names = new List<string>();
            for (var m = LibBpf.bpf_object__next_map(Obj, 0); m != 0; m = LibBpf.bpf_object__next_map(Obj, m))
                names.Add(Marshal.PtrToStringUTF8((nint)LibBpf.bpf_map__name(m))!);
            return names;
        }
    }

    private nint FindMap(string map, string operation)
    {
        var m = LibBpf.bpf_object__find_map_by_name(Obj, map);
        if (m == 0)
            throw new BpfException(operation, 0, $"object '{Name}' has no map '{map}' (maps: {string.Join(", ", MapNames)})");
        return m;
    }

    /// <summary>Sets the size of a map before it is created in the kernel.</summary>
    public void SetMaxEntries(string map, uint maxEntries)
    {
        var operation = $"set max_entries of map '{map}' in '{Name}' to {maxEntries}";
        if (maxEntries == 0)
            throw new BpfException(operation, 22, "max_entries must be at least 1");
        BpfException.ThrowIfNegative(LibBpf.bpf_map__set_max_entries(FindMap(map, operation), maxEntries), operation, "libbpf refused the size");
    }

    /// <summary>
    /// Sets a <c>const volatile</c> global of the program (held in .rodata) before load; the
    /// verifier then sees it as a constant and prunes the branches it disables.
    /// </summary>
    public void SetConstant<T>(string name, T value) where T : unmanaged
    {
        var operation = $"set constant '{name}' of '{Name}'";
        var (map, offset, size) = FindRodataVariable(name, operation);
        if (size != sizeof(T))
            throw new BpfException(operation, 0, $"the constant is {size} bytes in the object but {typeof(T).Name} is {sizeof(T)} bytes");
        nuint sectionSize;
        var current = (byte*)LibBpf.bpf_map__initial_value(map, &sectionSize);
        if (current == null)
            throw new BpfException(operation, 0, "libbpf has no initial value for .rodata");
        var section = new ReadOnlySpan<byte>(current, (int)sectionSize).ToArray();
        MemoryMarshal.Write(section.AsSpan((int)offset), in value);
        fixed (byte* p = section)
            BpfException.ThrowIfNegative(LibBpf.bpf_map__set_initial_value(map, p, sectionSize), operation, "libbpf refused the new .rodata");
    }

    private (nint Map, uint Offset, uint Size) FindRodataVariable(string name, string operation)
    {
        var btf = LibBpf.bpf_object__btf(Obj);
        var map = LibBpf.bpf_object__find_map_by_name(Obj, ".rodata");
        var secId = btf == 0 ? -1 : LibBpf.btf__find_by_name_kind(btf, ".rodata", BpfConstants.BtfKindDatasec);
        if (map == 0 || secId < 0)
            throw new BpfException(operation, 0, $"object '{Name}' has no .rodata constants");
        var sec = LibBpf.btf__type_by_id(btf, (uint)secId);
        var vars = (BtfVarSecInfo*)(sec + 1);
        var known = new List<string>();
        for (int i = 0; i < sec->Vlen; i++)
        {
            var varType = LibBpf.btf__type_by_id(btf, vars[i].Type);
            var varName = Marshal.PtrToStringUTF8((nint)LibBpf.btf__name_by_offset(btf, varType->NameOffset))!;
            if (varName == name)
                return (map, vars[i].Offset, vars[i].Size);
            known.Add(varName);
        }
        throw new BpfException(operation, 0, $"no constant '{name}' in .rodata (constants: {string.Join(", ", known)})");
    }

    /// <summary>
    /// Makes the object use an existing pinned map instead of creating a new one, so that a
    /// restarted gateway adopts the state (sessions, counters) of the one before it. A pin left
    /// by another build (a map it did not have, or one of another type, key or value size) is
    /// refused with both shapes named before anything is created: adopting it would either fail
    /// in the verifier or read the old layout as the new one.
    /// </summary>
    public void ReusePinnedMap(string map, string pinPath)
    {
        var operation = $"reuse pinned map '{pinPath}' for map '{map}' of '{Name}'";
        var m = FindMap(map, operation);
        var fd = LibBpf.bpf_obj_get(pinPath);
        if (fd < 0)
            throw new BpfException(operation, -fd, -fd == 2 /* ENOENT */
                ? $"nothing is pinned there: the pinned state is from a build without map '{map}' (remove it to start empty, losing its sessions, or run the build that pinned it)"
                : "cannot open the pin");
        using var pin = new BpfFdHandle(fd); // reuse_fd duplicates the descriptor
        var info = BpfMapInfo.Read(pin, pinPath);
        var (type, keySize, valueSize) = ((BpfMapType)LibBpf.bpf_map__type(m), LibBpf.bpf_map__key_size(m), LibBpf.bpf_map__value_size(m));
        if (info.Type != type || info.KeySize != keySize || info.ValueSize != valueSize)
            throw new BpfException(operation, 22 /* EINVAL */,
                $"the pin is {Shape(info.Type, info.KeySize, info.ValueSize)} but this build's map is {Shape(type, keySize, valueSize)}: " +
                "pinned by another build of the datapath (remove the pinned state to start empty, losing its sessions, or run the build that pinned it)");
        BpfException.ThrowIfNegative(LibBpf.bpf_map__reuse_fd(m, pin.Fd), operation,
            "the pinned map does not match the object's definition (type, key, value or size)");
        _reusedPins[map] = pinPath;
    }

    private static string Shape(BpfMapType type, uint keySize, uint valueSize) =>
        $"{(Enum.IsDefined(type) ? type.ToString() : $"type {(uint)type}")} with {keySize}-byte keys and {valueSize}-byte values";

    /// <summary>Creates the maps and loads every program into the kernel.</summary>
    public BpfObject Load()
    {
        var handle = _handle ?? throw new ObjectDisposedException(Name, "the spec was loaded or disposed");
        var operation = $"load BPF object '{Name}'";
        using (var log = LibBpfLog.Capture())
        {
            var rc = LibBpf.bpf_object__load(handle.DangerousGetHandle());
            if (rc < 0)
            {
                Dispose();
                throw new BpfException(operation, -rc, "the kernel refused a program or map", log.Text);
            }
        }
        _handle = null;
        return new BpfObject(handle, Name);
    }

    public void Dispose()
    {
        _handle?.Dispose();
        _handle = null;
    }
}
