using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace LoxiLb.Edge5G.Tests.Pfcp.Interop;

/// <summary>The node's log lines in the test output (xunit shows them when a test fails or with -v).</summary>
public sealed class TestOutputLogger(ITestOutputHelper output, LogLevel minimum = LogLevel.Information) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel))
            return;
        try
        {
            output.WriteLine($"[{DateTime.UtcNow:HH:mm:ss.fff} {logLevel}] {formatter(state, exception)}{(exception is null ? "" : " " + exception)}");
        }
        catch (InvalidOperationException)
        {
            // the test has finished; a late line from a background thread is dropped
        }
    }
}
