using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using LoxiLb.Edge5G.Bpf.Interop;

namespace LoxiLb.Edge5G.Bpf;

public enum LibBpfLogLevel { Warning = 0, Info = 1, Debug = 2 }

/// <summary>
/// Routes libbpf's print callback to managed code. While a <see cref="Capture"/> is open on
/// the calling thread, everything libbpf prints (including the verifier log it prints when a
/// load fails) is collected so that the failure can carry it; otherwise warnings go to
/// <see cref="Warning"/>.
/// </summary>
public static unsafe class LibBpfLog
{
    [ThreadStatic] private static StringBuilder? t_capture;
    private static int s_installed;

    /// <summary>Receives libbpf warnings printed outside a capture. Defaults to standard error.</summary>
    public static Action<string> Warning { get; set; } = text => Console.Error.Write($"libbpf: {text}");

    internal static void EnsureInstalled()
    {
        if (Interlocked.Exchange(ref s_installed, 1) == 0)
            LibBpf.libbpf_set_print(&Print);
    }

    /// <summary>Collects libbpf's output on this thread until disposed.</summary>
    internal static CaptureScope Capture()
    {
        EnsureInstalled();
        var previous = t_capture;
        t_capture = new StringBuilder();
        return new CaptureScope(previous);
    }

    internal readonly struct CaptureScope(StringBuilder? previous) : IDisposable
    {
        public string Text => t_capture?.ToString() ?? "";
        public void Dispose() => t_capture = previous;
    }

    // x86-64 SysV: a va_list argument is a pointer to one __va_list_tag of 24 bytes;
    // copying those bytes is what va_copy does, so the list can be formatted twice.
    [InlineArray(24)]
    private struct VaListTag { private byte _b; }

    [UnmanagedCallersOnly]
    private static int Print(int level, byte* format, nint args)
    {
        try
        {
            VaListTag copy = *(VaListTag*)args;
            int length = LibC.vsnprintf(null, 0, format, (nint)(&copy));
            if (length <= 0)
                return 0;
            var buffer = new byte[length + 1];
            fixed (byte* p = buffer)
                LibC.vsnprintf(p, (nuint)buffer.Length, format, args);
            var text = Encoding.UTF8.GetString(buffer, 0, length);
            if (t_capture is { } sb)
                sb.Append(text);
            else if (level == (int)LibBpfLogLevel.Warning)
                Warning(text);
        }
        catch
        {
            // Never let an exception cross into libbpf.
        }
        return 0;
    }
}
