using LoxiLb.Edge5G.Bpf.Interop;

namespace LoxiLb.Edge5G.Bpf;

/// <summary>What one BPF_PROG_TEST_RUN of an XDP program returned.</summary>
public sealed record XdpRunResult(XdpAction Verdict, byte[] Output, uint DurationNanoseconds);

/// <summary>
/// Runs XDP programs on packet bytes in the kernel (BPF_PROG_TEST_RUN), the way the program
/// tests and `edge5g replay` exercise the real datapath without a network.
/// </summary>
public static unsafe class ProgramTestRun
{
    /// <summary>Room for headers a program may push (encapsulation) in front of the input.</summary>
    public const int OutputHeadroom = 512;

    /// <summary>
    /// Runs <paramref name="program"/> once on <paramref name="packet"/> (an Ethernet frame).
    /// repeat = 1: a decapsulating program would see its own output on a second repetition.
    /// When <paramref name="ingressIfindex"/> is non-zero the program sees it as ctx->ingress_ifindex
    /// (the interface must exist in the calling thread's network namespace).
    /// </summary>
    public static XdpRunResult RunXdp(BpfProgram program, ReadOnlySpan<byte> packet, int ingressIfindex = 0)
    {
        var operation = $"test-run {program} on a {packet.Length}-byte packet";
        if (packet.Length < 14)
            throw new BpfException(operation, 22, "XDP test runs need at least an Ethernet header (14 bytes)");
        var output = new byte[packet.Length + OutputHeadroom];
        var context = new XdpMd { Data = 0, DataEnd = (uint)packet.Length, IngressIfindex = (uint)ingressIfindex };
        fixed (byte* input = packet)
        fixed (byte* outPtr = output)
        {
            var opts = new BpfTestRunOpts
            {
                Size = (nuint)sizeof(BpfTestRunOpts),
                DataIn = input,
                DataSizeIn = (uint)packet.Length,
                DataOut = outPtr,
                DataSizeOut = (uint)output.Length,
                Repeat = 1,
            };
            if (ingressIfindex != 0)
            {
                opts.ContextIn = &context;
                opts.ContextSizeIn = (uint)sizeof(XdpMd);
            }
            BpfException.ThrowIfNegative(LibBpf.bpf_prog_test_run_opts(program.Fd, &opts), operation, "BPF_PROG_TEST_RUN failed");
            return new XdpRunResult((XdpAction)opts.ReturnValue, output.AsSpan(0, (int)opts.DataSizeOut).ToArray(), opts.Duration);
        }
    }

    /// <summary>
    /// Live-frames mode (BPF_F_TEST_XDP_LIVE_FRAMES): <paramref name="repeat"/> frames built from
    /// <paramref name="packet"/> go through the program in batches and its verdicts are carried
    /// out (XDP_TX and redirects really transmit). No output and no return value come back: check
    /// verdicts with counters. The interface must exist in the calling thread's namespace.
    /// Pages are recycled with only their pointers reset: see the bench wrapper program.
    /// </summary>
    public static void RunLive(BpfProgram program, ReadOnlySpan<byte> packet, int ingressIfindex, int repeat, uint batchSize = 64)
    {
        var context = new XdpMd { Data = 0, DataEnd = (uint)packet.Length, IngressIfindex = (uint)ingressIfindex };
        fixed (byte* input = packet)
        {
            var opts = new BpfTestRunOpts
            {
                Size = (nuint)sizeof(BpfTestRunOpts),
                DataIn = input,
                DataSizeIn = (uint)packet.Length,
                ContextIn = &context,
                ContextSizeIn = (uint)sizeof(XdpMd),
                Repeat = repeat,
                Flags = BpfConstants.TestRunXdpLiveFrames,
                BatchSize = batchSize,
            };
            BpfException.ThrowIfNegative(LibBpf.bpf_prog_test_run_opts(program.Fd, &opts),
                $"live test-run {program} x{repeat}", "BPF_PROG_TEST_RUN (live frames) failed");
        }
    }
}
