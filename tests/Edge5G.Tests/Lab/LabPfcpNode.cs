using System.Net;
using LoxiLb.Edge5G.Host;
using LoxiLb.Edge5G.Lab;
using LoxiLb.Edge5G.Pfcp.Ies;
using LoxiLb.Edge5G.Pfcp.Node;
using Microsoft.Extensions.Logging.Abstractions;

namespace LoxiLb.Edge5G.Tests.Lab;

/// <summary>A PFCP node over a lab's datapath, started in the gateway's namespace on 127.0.0.1:8805.</summary>
public static class LabPfcpNode
{
    public static readonly IPEndPoint Endpoint = new(IPAddress.Loopback, 8805);

    public static PfcpNode Start(GtpLab lab, IGtpuSender gtpu)
    {
        using (lab.Gateway.Enter())
        {
            var node = new PfcpNode(new PfcpNodeSettings
            {
                Listen = Endpoint,
                NodeId = NodeId.FromAddress(IPAddress.Loopback),
                Peers = [Cidr.Parse("127.0.0.0/8")],
                UePools = [Cidr.Parse("192.0.2.0/24")],
            }, lab.Sessions, lab.Datapath.Tables, NullLogger.Instance, gtpu: gtpu);
            node.Start();
            return node;
        }
    }
}
