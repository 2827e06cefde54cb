namespace MemWatch.Daemon.Configuration;

/// <summary>HTTPS on the listener, for a Prometheus that scrapes from another host. Both files PEM; unset means plain HTTP.</summary>
internal sealed class TlsOptions
{
    /// <summary>The certificate (and its chain), PEM.</summary>
    public string? CertificateFile { get; set; }

    /// <summary>The private key, PEM; read once at start, with the same checks as the token file.</summary>
    public string? KeyFile { get; set; }
}
