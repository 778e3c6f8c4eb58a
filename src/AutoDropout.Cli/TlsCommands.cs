using System.CommandLine;
using AutoDropout.Cluster;

namespace AutoDropout.Cli;

/// <summary>`autodropout tls make-cert`: the cluster certificate that every node must hold to join.</summary>
public static class TlsCommands
{
    public static Command Create()
    {
        var tls = new Command("tls", "the cluster certificate: nodes join only when they hold it (docs/operations.md, Security)");

        var make = new Command("make-cert", "write a new self-signed cluster certificate and key (PKCS#12, mode 600)");
        var output = new Option<string>("--out") { Description = "the file to create (never overwritten)", HelpName = "FILE", Required = true };
        var passwordFile = CliOptions.Text("--password-file",
            $"a file whose first line is the password [{NodeEnvironment.TlsPasswordFile}, {NodeEnvironment.TlsPassword}; default none]", "FILE");
        var days = CliOptions.Int("--days", "validity in days (default 3650)");
        var name = CliOptions.Text("--name", "the certificate's subject CN (default autodropout-cluster)", "NAME");
        foreach (var option in (Option[])[output, passwordFile, days, name]) make.Add(option);
        make.SetAction(result => Make(result.GetValue(output)!, result.GetValue(passwordFile), result.GetValue(days) ?? 3650,
            result.GetValue(name) ?? "autodropout-cluster", NodeEnvironment.Process));
        tls.Add(make);
        return tls;
    }

    /// <summary>Creates the file; the password comes from --password-file, else the node's variables.</summary>
    public static int Make(string output, string? passwordFile, int days, string name, Func<string, string?> environment)
    {
        if (days < 1) throw new UsageException("--days must be at least 1");
        if (File.Exists(output)) throw new IOException($"{output} exists; remove it first to make a new certificate");
        var password = passwordFile is not null
            ? File.ReadLines(passwordFile).FirstOrDefault() ?? ""
            : ClusterTls.Password(environment);
        using var certificate = ClusterTls.Create(name, TimeSpan.FromDays(days));
        ClusterTls.Write(certificate, output, password);
        Console.WriteLine($"wrote {output} (owner-only): CN={name}, valid until {certificate.NotAfter.ToUniversalTime():yyyy-MM-dd}, " +
                          $"SHA-256 {ClusterTls.Fingerprint(certificate)}");
        Console.WriteLine($"give every node a copy: --tls-cert FILE or {NodeEnvironment.TlsCertificate}" +
                          (password.Length > 0 ? $", and the password through {NodeEnvironment.TlsPasswordFile} or {NodeEnvironment.TlsPassword}" : ""));
        return ExitCodes.Ok;
    }
}
