using LoxiLb.Edge5G.Bench;

namespace LoxiLb.Edge5G.Tests.Bench;

public class BenchRowTests
{
    /// <summary>Differences from the trivial program print with one sign, whatever rounding does.</summary>
    [Theory]
    [InlineData(12.34, "+12.3")]
    [InlineData(-4.0, "-4.0")]
    [InlineData(-20.26, "-20.3")]
    [InlineData(-0.04, "+0.0")]
    [InlineData(0.0, "+0.0")]
    [InlineData(0.06, "+0.1")]
    public void Differences_PrintWithOneSign(double ns, string expected) => Assert.Equal(expected, BenchRow.Signed(ns));
}
