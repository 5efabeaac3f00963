using System.Text.Json;
using LoxiLb.Edge5G.Datapath.Compiler;
using LoxiLb.Edge5G.Datapath.Json;
using Microsoft.Extensions.Logging;

namespace LoxiLb.Edge5G.Host;

/// <summary>
/// The installed sessions saved as JSON (slots and rules), written atomically (temporary file
/// and rename) so a restarted daemon adopts exactly a state that existed.
/// </summary>
public sealed partial class SessionStateStore(string path, ILogger log)
{
    public string Path { get; } = path;

    public IReadOnlyList<SessionRecord> Load()
    {
        if (!File.Exists(Path))
            return [];
        try
        {
            return JsonSerializer.Deserialize<SessionRecord[]>(File.ReadAllText(Path), RulesDocument.JsonOptions) ?? [];
        }
        catch (JsonException e)
        {
            LogUnreadable(log, Path, e.Message);
            return [];
        }
    }

    public void Save(IReadOnlyList<SessionRecord> records)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        var temporary = Path + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(records, RulesDocument.JsonOptions));
        File.Move(temporary, Path, overwrite: true);
    }

    public void Delete() => File.Delete(Path);

    [LoggerMessage(EventId = 110, Level = LogLevel.Warning, Message = "saved session state {Path} is unreadable ({Reason}); starting without it")]
    private static partial void LogUnreadable(ILogger logger, string path, string reason);
}
