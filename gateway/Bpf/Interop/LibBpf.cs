using System.Runtime.InteropServices;

namespace LoxiLb.Edge5G.Bpf.Interop;

/// <summary>
/// P/Invoke surface of libbpf.so.1 (Debian 12 ships 1.1.2). libbpf runs in "1.0 mode":
/// pointer-returning calls give NULL and set errno; int-returning calls give -errno.
/// </summary>
internal static unsafe partial class LibBpf
{
    private const string Lib = "libbpf.so.1";

    // ---- objects ----
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint bpf_object__open_file(string path, BpfObjectOpenOpts* opts);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial nint bpf_object__open_mem(void* buffer, nuint size, BpfObjectOpenOpts* opts);

    [LibraryImport(Lib)]
    internal static partial int bpf_object__load(nint obj);

    [LibraryImport(Lib)]
    internal static partial void bpf_object__close(nint obj);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint bpf_object__find_program_by_name(nint obj, string name);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint bpf_object__find_map_by_name(nint obj, string name);

    [LibraryImport(Lib)]
    internal static partial nint bpf_object__next_program(nint obj, nint prev);

    [LibraryImport(Lib)]
    internal static partial nint bpf_object__next_map(nint obj, nint prev);

    [LibraryImport(Lib)]
    internal static partial nint bpf_object__btf(nint obj);

    // ---- programs ----
    [LibraryImport(Lib)]
    internal static partial int bpf_program__fd(nint prog);

    [LibraryImport(Lib)]
    internal static partial byte* bpf_program__name(nint prog);

    [LibraryImport(Lib)]
    internal static partial int bpf_program__type(nint prog);

    [LibraryImport(Lib)]
    internal static partial int bpf_program__set_autoload(nint prog, [MarshalAs(UnmanagedType.U1)] bool autoload);

    // ---- maps ----
    [LibraryImport(Lib)]
    internal static partial int bpf_map__fd(nint map);

    [LibraryImport(Lib)]
    internal static partial byte* bpf_map__name(nint map);

    [LibraryImport(Lib)]
    internal static partial int bpf_map__type(nint map);

    [LibraryImport(Lib)]
    internal static partial uint bpf_map__key_size(nint map);

    [LibraryImport(Lib)]
    internal static partial uint bpf_map__value_size(nint map);

    [LibraryImport(Lib)]
    internal static partial uint bpf_map__max_entries(nint map);

    [LibraryImport(Lib)]
    internal static partial int bpf_map__set_max_entries(nint map, uint maxEntries);

    [LibraryImport(Lib)]
    internal static partial void* bpf_map__initial_value(nint map, nuint* size);

    [LibraryImport(Lib)]
    internal static partial int bpf_map__set_initial_value(nint map, void* data, nuint size);

    [LibraryImport(Lib)]
    internal static partial int bpf_map__reuse_fd(nint map, int fd);

    // ---- BTF ----
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int btf__find_by_name_kind(nint btf, string name, uint kind);

    [LibraryImport(Lib)]
    internal static partial BtfType* btf__type_by_id(nint btf, uint id);

    [LibraryImport(Lib)]
    internal static partial byte* btf__name_by_offset(nint btf, uint offset);

    // ---- low-level syscalls wrappers (bpf.h) ----
    [LibraryImport(Lib)]
    internal static partial int bpf_map_lookup_elem(int fd, void* key, void* value);

    [LibraryImport(Lib)]
    internal static partial int bpf_map_update_elem(int fd, void* key, void* value, ulong flags);

    [LibraryImport(Lib)]
    internal static partial int bpf_map_delete_elem(int fd, void* key);

    [LibraryImport(Lib)]
    internal static partial int bpf_map_lookup_batch(int fd, void* inBatch, void* outBatch, void* keys, void* values, uint* count, void* opts);

    [LibraryImport(Lib)]
    internal static partial int bpf_map_update_batch(int fd, void* keys, void* values, uint* count, void* opts);

    [LibraryImport(Lib)]
    internal static partial int bpf_map_get_next_key(int fd, void* key, void* nextKey);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int bpf_obj_pin(int fd, string path);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int bpf_obj_get(string path);

    [LibraryImport(Lib)]
    internal static partial int bpf_link_create(int progFd, int targetFd, uint attachType, BpfLinkCreateOpts* opts);

    [LibraryImport(Lib)]
    internal static partial int bpf_link_update(int linkFd, int newProgFd, BpfLinkUpdateOpts* opts);

    [LibraryImport(Lib)]
    internal static partial int bpf_link_detach(int linkFd);

    [LibraryImport(Lib)]
    internal static partial int bpf_prog_test_run_opts(int progFd, BpfTestRunOpts* opts);

    [LibraryImport(Lib)]
    internal static partial int bpf_obj_get_info_by_fd(int fd, void* info, uint* infoLength);

    // ---- ring buffers ----
    [LibraryImport(Lib, SetLastError = true)]
    internal static partial nint ring_buffer__new(int mapFd, delegate* unmanaged<nint, void*, nuint, int> sample, nint context, void* opts);

    [LibraryImport(Lib)]
    internal static partial int ring_buffer__poll(nint ringBuffer, int timeoutMs);

    [LibraryImport(Lib)]
    internal static partial int ring_buffer__consume(nint ringBuffer);

    [LibraryImport(Lib)]
    internal static partial void ring_buffer__free(nint ringBuffer);

    [LibraryImport(Lib)]
    internal static partial int bpf_enable_stats(int type);

    // ---- misc ----
    [LibraryImport(Lib)]
    internal static partial int libbpf_num_possible_cpus();

    [LibraryImport(Lib)]
    internal static partial nint libbpf_set_print(delegate* unmanaged<int, byte*, nint, int> fn);
}
