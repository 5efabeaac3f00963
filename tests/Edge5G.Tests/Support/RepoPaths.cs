namespace LoxiLb.Edge5G.Tests.Support;

/// <summary>Paths in the repository and in ../shared, found from the test binaries.</summary>
public static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string BpfInclude => Path.Combine(Root, "bpf", "include");
    public static string Pcaps => Path.Combine(Root, "pcaps");

    /// <summary>../shared next to the repository (real captures, bench packets), if present.</summary>
    public static string Shared => Path.GetFullPath(Path.Combine(Root, "..", "shared"));

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "LoxiLb.Edge5G.sln")))
                return dir.FullName;
        throw new InvalidOperationException("cannot find the repository root (LoxiLb.Edge5G.sln) above " + AppContext.BaseDirectory);
    }
}
