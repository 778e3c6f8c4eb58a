using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka.Event;
using Akka.Remote.Transport.DotNetty;

namespace AutoDropout.Cluster;

/// <summary>
/// The cluster certificate: one self-signed certificate that every node holds. Remoting runs TLS with mutual
/// authentication, and a peer is accepted only when it presents this very certificate, so holding the file is what
/// makes a node a member. Its password comes from a file or the environment, never from the command line.
/// </summary>
public static class ClusterTls
{
    public const string ServerAuth = "1.3.6.1.5.5.7.3.1";
    public const string ClientAuth = "1.3.6.1.5.5.7.3.2";

    public const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>A self-signed ECDSA P-256 certificate usable by both ends of a TLS connection.</summary>
    public static X509Certificate2 Create(string subject, TimeSpan validity)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName($"CN={subject}"), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(ServerAuth), new Oid(ClientAuth)], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddMinutes(-5), now + validity);
    }

    /// <summary>Writes the certificate and its key as PKCS#12 into a new file that is owner-only from its creation.</summary>
    public static void Write(X509Certificate2 certificate, string path, string password)
    {
        var bytes = certificate.ExportPkcs12(Pkcs12ExportPbeParameters.Pbes2Aes256Sha256, password);
        using var file = OwnerOnlyFile.CreateNew(path);
        file.Write(bytes);
    }

    /// <summary>The certificate with its key; a wrong password or a file without a key is said plainly, not thrown raw.</summary>
    /// <param name="what">What the file is, for messages.</param>
    public static X509Certificate2 Load(string path, string password, string what = "the cluster certificate")
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{what} {path} does not exist");
        X509Certificate2 certificate;
        try
        {
            certificate = X509CertificateLoader.LoadPkcs12FromFile(path, password);
        }
        catch (CryptographicException e)
        {
            throw new InvalidOperationException($"cannot read {what} {path} (wrong password?): {e.Message}", e);
        }
        if (certificate.HasPrivateKey) return certificate;
        certificate.Dispose();
        throw new InvalidOperationException($"{what} {path} holds no private key");
    }

    /// <summary>SHA-256 of the certificate, the form operators compare (lower-case hex).</summary>
    public static string Fingerprint(X509Certificate certificate) =>
        Convert.ToHexStringLower(certificate.GetCertHash(HashAlgorithmName.SHA256));

    /// <summary>
    /// Accepts a peer only when it presents exactly <paramref name="cluster"/>. A self-signed certificate never chains
    /// to a trusted root, so chain errors are expected and ignored: the comparison is what authenticates.
    /// </summary>
    public static CertificateValidationCallback Pinned(X509Certificate2 cluster)
    {
        var expected = cluster.RawData;
        return (certificate, _, peer, errors, log) =>
        {
            if (certificate is null)
            {
                log.Warning("refused {0}: it presented no certificate (is TLS on there, with the cluster certificate?)", peer);
                return false;
            }
            if ((errors & SslPolicyErrors.RemoteCertificateNotAvailable) == 0
                && CryptographicOperations.FixedTimeEquals(certificate.RawData, expected))
                return true;
            log.Warning("refused {0}: its certificate {1} is not this cluster's certificate {2}", peer,
                Fingerprint(certificate), Fingerprint(cluster));
            return false;
        };
    }

    /// <summary>The certificate's password: the password file's first line, else the variable, else none.</summary>
    public static string Password(Func<string, string?> environment,
        string fileVariable = NodeEnvironment.TlsPasswordFile, string variable = NodeEnvironment.TlsPassword)
    {
        if (NodeEnvironment.Get(environment, fileVariable) is { } file)
            return File.ReadAllLines(file).FirstOrDefault() ?? "";
        return NodeEnvironment.Get(environment, variable) ?? "";
    }

    /// <summary>The command endpoint's certificate and key (HTTPS), its password from its own variables.</summary>
    public static X509Certificate2 LoadEndpoint(string path, Func<string, string?> environment) =>
        Load(path, Password(environment, NodeEnvironment.CommandTlsPasswordFile, NodeEnvironment.CommandTlsPassword),
            "the command endpoint's certificate");

    /// <summary>
    /// A client's trust in an endpoint's certificate, from a file: a PEM or DER certificate (the endpoint's own, or the
    /// CA that issued it), or the endpoint's PKCS#12 file itself (password from the endpoint's variables).
    /// </summary>
    public static X509Certificate2 LoadTrusted(string path, Func<string, string?> environment)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"the endpoint certificate {path} does not exist");
        try { return X509CertificateLoader.LoadCertificateFromFile(path); }
        catch (CryptographicException)
        {
            return Load(path, Password(environment, NodeEnvironment.CommandTlsPasswordFile, NodeEnvironment.CommandTlsPassword),
                "the endpoint certificate");
        }
    }

    /// <summary>
    /// Whether a client accepts the endpoint's certificate: it is <paramref name="trusted"/> itself (pinned, name
    /// and chain not checked: a self-signed certificate has neither), or it chains to <paramref name="trusted"/> as
    /// its only root and names the host the client asked for.
    /// </summary>
    public static bool Trusts(X509Certificate2 trusted, X509Certificate? presented, SslPolicyErrors errors)
    {
        if (presented is null) return false;
        using var certificate = X509CertificateLoader.LoadCertificate(presented.GetRawCertData());
        if (CryptographicOperations.FixedTimeEquals(certificate.RawData, trusted.RawData)) return true;
        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0) return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(trusted);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        return chain.Build(certificate);
    }

    /// <summary>The line nodes log when remoting runs without TLS.</summary>
    public static string PlainWarning(string host, int? port) =>
        $"remoting on {host}:{port} is plain TCP without a cluster certificate: anyone who can reach this port can join "
        + $"the cluster and send it messages. Give every node --tls-cert or {NodeEnvironment.TlsCertificate} (docs/operations.md, Security)";
}

/// <summary>Files that hold secrets: created with mode 600 at once, so they are never readable by others, even briefly.</summary>
public static class OwnerOnlyFile
{
    /// <summary>A new file (an existing one is an error), owner read/write only on Unix from the moment it exists.</summary>
    public static FileStream CreateNew(string path)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = ClusterTls.OwnerOnly;
        return new FileStream(path, options);
    }
}
