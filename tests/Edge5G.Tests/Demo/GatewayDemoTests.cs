using LoxiLb.Edge5G.Demo;
using LoxiLb.Edge5G.Lab;
using LoxiLb.Edge5G.Tests.Support;

namespace LoxiLb.Edge5G.Tests.Demo;

/// <summary>The main job, as README's first command runs it: must pass end to end and leave nothing behind.</summary>
public class GatewayDemoTests
{
    [SkippableFact]
    public void Demo_VerifiesTrafficEndToEnd_ThroughARealGatewayProcess_AndCleansUp()
    {
        Privileged.Require();
        var output = new StringWriter();
        var demo = new GatewayDemo(output);

        var rc = demo.Run();

        var text = output.ToString();
        Assert.True(rc == 0, text);
        Assert.Contains("ok: association: RequestAccepted", text);
        Assert.Contains("ok: session ulcl: 5 of 5 downlink packets reached the gNB", text);
        Assert.Contains("ok: central UPF received 1 N9 packet(s) with TEID 0xc0ffee", text);
        Assert.Contains("edge5g_pfcp_associations 1", text);
        Assert.Contains("[demo] OK: traffic verified end to end", text);
        // Its own namespaces and pins are gone (other tests of this process may have labs running).
        Assert.NotNull(demo.LabId);
        Assert.DoesNotContain($"{LabNetwork.Prefix}{demo.LabId}-", ProcessRunner.Run("ip", "netns", "list").StandardOutput);
        Assert.False(Directory.Exists($"/sys/fs/bpf/{LabNetwork.Prefix}{demo.LabId}"));
    }
}
