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

        var rc = new GatewayDemo(output).Run();

        var text = output.ToString();
        Assert.True(rc == 0, text);
        Assert.Contains("ok: association: RequestAccepted", text);
        Assert.Contains("ok: session ulcl: 5 of 5 downlink packets reached the gNB", text);
        Assert.Contains("ok: central UPF received 1 N9 packet(s) with TEID 0xc0ffee", text);
        Assert.Contains("edge5g_pfcp_associations 1", text);
        Assert.Contains("[demo] OK: traffic verified end to end", text);
        Assert.DoesNotContain(LabNetwork.Prefix + Environment.ProcessId, ProcessRunner.Run("ip", "netns", "list").StandardOutput);
        Assert.Empty(Directory.EnumerateDirectories("/sys/fs/bpf", $"{LabNetwork.Prefix}{Environment.ProcessId}-*"));
    }
}
