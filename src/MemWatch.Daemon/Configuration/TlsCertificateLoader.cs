using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using MemWatch.Probes.Files;
using Microsoft.Win32.SafeHandles;

namespace MemWatch.Daemon.Configuration;

/// <summary>
/// Loads <c>Tls.CertificateFile</c> and <c>Tls.KeyFile</c> (PEM) once at start. Both are read as regular files of
/// bounded size (no FIFO, no device); the key must not be readable by others (like the token file).
/// </summary>
internal static class TlsCertificateLoader
{
    private const int MaxPemBytes = 1024 * 1024;

    public static X509Certificate2? Load(TlsOptions tls, List<string> errors)
    {
        bool hasCert = tls.CertificateFile is { Length: > 0 };
        bool hasKey = tls.KeyFile is { Length: > 0 };
        if (!hasCert && !hasKey)
        {
            return null;
        }

        if (!hasCert || !hasKey)
        {
            errors.Add("Tls needs both CertificateFile and KeyFile (PEM)");
            return null;
        }

        string? certificate = ReadPem($"Tls.CertificateFile {tls.CertificateFile}", tls.CertificateFile!, secret: false, errors);
        string? key = ReadPem($"Tls.KeyFile {tls.KeyFile}", tls.KeyFile!, secret: true, errors);
        if (certificate is null || key is null)
        {
            return null;
        }

        try
        {
            return X509Certificate2.CreateFromPem(certificate, key);
        }
        catch (CryptographicException e)
        {
            errors.Add($"Tls.CertificateFile {tls.CertificateFile} and Tls.KeyFile {tls.KeyFile} do not make a certificate with its key: {e.Message.ReplaceLineEndings(" ").Trim()}");
            return null;
        }
    }

    private static string? ReadPem(string where, string path, bool secret, List<string> errors)
    {
        try
        {
            using SafeFileHandle handle = CheckedFile.OpenRegular(path, MaxPemBytes);
            FileStatus status = CheckedFile.Stat(handle, path);
            if (secret && (status.Permissions & 0x7) != 0)
            {
                errors.Add($"{where} has mode 0{Convert.ToString(status.Permissions, 8)}: every user may read the private key; chmod 600 it");
                return null;
            }

            byte[] bytes = new byte[status.SizeBytes];
            int read = RandomAccess.Read(handle, bytes, 0);
            return Encoding.ASCII.GetString(bytes, 0, read);
        }
        catch (UnsafeFileException e)
        {
            errors.Add($"{where} refused: {e.Reason}");
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            errors.Add($"{where} cannot be read: {e.Message.ReplaceLineEndings(" ")}");
            return null;
        }
    }
}
