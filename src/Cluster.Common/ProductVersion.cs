using System.Reflection;

namespace AutoDropout.Cluster;

/// <summary>
/// The version of this build: the solution's one SemVer (Directory.Build.props) and the commit it was built from.
/// Nodes advertise it as their Akka app-version, so every node sees every other node's version.
/// </summary>
public static class ProductVersion
{
    private static readonly string Informational =
        typeof(ProductVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    /// <summary>SemVer, e.g. "0.2.0".</summary>
    public static string Version { get; } = Informational.Split('+')[0];

    /// <summary>The commit this build came from, or "unknown" when it was built outside a git checkout.</summary>
    public static string Commit { get; } = Informational.Split('+') is [_, var commit, ..] ? commit : "unknown";

    /// <summary>"0.2.0+1a2b3c4d5e6f", as `autodropout --version` prints it.</summary>
    public static string Full => $"{Version}+{Commit}";

    /// <summary>
    /// Whether nodes of these versions understand each other's messages and events: the same major version, and
    /// before 1.0 the same minor version too (SemVer lets 0.x minors break).
    /// </summary>
    public static bool Compatible(string a, string b)
    {
        if (!System.Version.TryParse(a.Split('-', '+')[0], out var x) || !System.Version.TryParse(b.Split('-', '+')[0], out var y)) return a == b;
        return x.Major == y.Major && (x.Major > 0 || x.Minor == y.Minor);
    }
}
