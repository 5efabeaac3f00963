using LoxiLb.Edge5G.Bpf.Interop;

namespace LoxiLb.Edge5G.Bpf;

public enum XdpMode
{
    /// <summary>In the driver (veth, most NICs): the fast path.</summary>
    Native,
    /// <summary>Generic (skb) mode: works on any interface, slower.</summary>
    Generic,
}

public enum TcDirection { Ingress, Egress }

/// <summary>
/// A BPF link: a program attached to a hook (XDP on an interface, TC ingress/egress).
/// Disposing the link detaches the program unless the link was pinned; a pinned link lives
/// until its pin is removed, which is how the datapath survives a daemon restart.
/// </summary>
public sealed unsafe class BpfLink : IDisposable
{
    private BpfLink(BpfFdHandle fd, string description)
    {
        Descriptor = fd;
        Description = description;
    }

    /// <summary>What is attached where, e.g. "xdp gtp.bpf.o/xdp_gtp on veth0 (native)".</summary>
    public string Description { get; }
    public BpfFdHandle Descriptor { get; }
    public string? PinPath { get; private set; }

    /// <summary>Attaches an XDP program to an interface by name.</summary>
    public static BpfLink AttachXdp(BpfProgram program, string interfaceName, XdpMode mode = XdpMode.Native) =>
        AttachXdp(program, InterfaceIndex(interfaceName, $"attach XDP program '{program}' to '{interfaceName}'"), mode);

    /// <summary>Attaches an XDP program to an interface by index, in the calling thread's network namespace.</summary>
    public static BpfLink AttachXdp(BpfProgram program, int ifindex, XdpMode mode = XdpMode.Native)
    {
        var what = $"xdp {program} on ifindex {ifindex} ({mode.ToString().ToLowerInvariant()})";
        if (program.Type != BpfProgramType.Xdp)
            throw new BpfException($"attach {what}", 22, $"program '{program}' is {program.Type}, expected an XDP program (SEC(\"xdp\"))");
        var opts = new BpfLinkCreateOpts
        {
            Size = (nuint)sizeof(BpfLinkCreateOpts),
            Flags = mode == XdpMode.Native ? BpfConstants.XdpFlagsDrvMode : BpfConstants.XdpFlagsSkbMode,
        };
        var fd = LibBpf.bpf_link_create(program.Fd, ifindex, BpfConstants.AttachXdp, &opts);
        if (fd < 0)
            throw new BpfException($"attach {what}", -fd, -fd switch
            {
                19 => "no such interface in this network namespace",
                16 => "another XDP program is already attached to the interface",
                95 => "the interface's driver does not support this XDP mode",
                _ => "BPF_LINK_CREATE failed",
            });
        return new BpfLink(new BpfFdHandle(fd), what);
    }

    /// <summary>
    /// Attaches a TC (SEC("tc")) program at the interface's ingress or egress hook, where
    /// clsact filters run, as a tcx link (kernel 6.6+): owned by a descriptor like XDP links.
    /// </summary>
    public static BpfLink AttachTc(BpfProgram program, int ifindex, TcDirection direction)
    {
        var what = $"tc {direction.ToString().ToLowerInvariant()} {program} on ifindex {ifindex}";
        if (program.Type != BpfProgramType.SchedCls)
            throw new BpfException($"attach {what}", 22, $"program '{program}' is {program.Type}, expected a TC program (SEC(\"tc\"))");
        var attachType = direction == TcDirection.Ingress ? BpfConstants.AttachTcxIngress : BpfConstants.AttachTcxEgress;
        var opts = new BpfLinkCreateOpts { Size = (nuint)sizeof(BpfLinkCreateOpts) };
        var fd = LibBpf.bpf_link_create(program.Fd, ifindex, attachType, &opts);
        if (fd < 0)
            throw new BpfException($"attach {what}", -fd, -fd == 19 ? "no such interface in this network namespace" : "BPF_LINK_CREATE (tcx) failed");
        return new BpfLink(new BpfFdHandle(fd), what);
    }

    public static BpfLink AttachTc(BpfProgram program, string interfaceName, TcDirection direction) =>
        AttachTc(program, InterfaceIndex(interfaceName, $"attach TC program '{program}' to '{interfaceName}'"), direction);

    /// <summary>Opens a link pinned by an earlier process (to replace its program or unpin it).</summary>
    public static BpfLink OpenPinned(string path) => new(BpfPins.Open(path, "link"), $"pinned link {path}") { PinPath = path };

    /// <summary>
    /// Atomically replaces the attached program: packets see either the old or the new one,
    /// never no program.
    /// </summary>
    public void Replace(BpfProgram program)
    {
        var opts = new BpfLinkUpdateOpts { Size = (nuint)sizeof(BpfLinkUpdateOpts) };
        BpfException.ThrowIfNegative(LibBpf.bpf_link_update(Descriptor.Fd, program.Fd, &opts),
            $"replace program of {Description} with {program}", "BPF_LINK_UPDATE failed");
    }

    public void Pin(string path)
    {
        BpfPins.Pin(Descriptor, path, $"pin {Description}");
        PinPath = path;
    }

    /// <summary>Removes the pin; the program stays attached until this link is disposed.</summary>
    public void Unpin()
    {
        if (PinPath is { } p)
            BpfPins.Unpin(p);
        PinPath = null;
    }

    /// <summary>Detaches the program now, whatever pins or other descriptors refer to the link.</summary>
    public void Detach() =>
        BpfException.ThrowIfNegative(LibBpf.bpf_link_detach(Descriptor.Fd), $"detach {Description}", "BPF_LINK_DETACH failed");

    public void Dispose() => Descriptor.Dispose();

    internal static int InterfaceIndex(string name, string operation)
    {
        var index = LibC.if_nametoindex(name);
        if (index == 0)
            throw new BpfException(operation, 19 /* ENODEV */, $"no interface named '{name}' in this network namespace");
        return (int)index;
    }
}
