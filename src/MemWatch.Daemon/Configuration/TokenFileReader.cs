using System.Text;
using MemWatch.Probes.Files;
using Microsoft.Win32.SafeHandles;

namespace MemWatch.Daemon.Configuration;

/// <summary>
/// Reads <c>Auth.TokenFile</c>: links are followed (a Kubernetes secret is a link into <c>..data</c>), then the file
/// opened must be a regular file of at most 4 KiB (not <c>/dev/zero</c>, not a FIFO: the open does not block), owned by
/// the daemon's user or root, with no permission for others and none to write for its group. Group-readable (0640)
/// is accepted with a warning.
/// </summary>
internal static class TokenFileReader
{
    public const int MaxBytes = 4096;
    public const int MinCharacters = 16;

    public static byte[]? Read(string path, List<string> errors, List<string> warnings)
    {
        string where = $"Auth.TokenFile {path}";
        try
        {
            using SafeFileHandle handle = CheckedFile.OpenRegular(path, MaxBytes);
            FileStatus status = CheckedFile.Stat(handle, path);
            uint daemonUid = FileOwner.Current;
            if (status.Uid != daemonUid && status.Uid != 0)
            {
                errors.Add($"{where} is owned by uid {status.Uid}, who could change the token: it must belong to the daemon's user (uid {daemonUid}) or root");
                return null;
            }

            if ((status.Permissions & 0x7) != 0)
            {
                errors.Add($"{where} has mode {Octal(status.Permissions)}: every user may read it; chmod 600 it (640 if a group must read it)");
                return null;
            }

            if ((status.Permissions & 0x10) != 0)
            {
                errors.Add($"{where} has mode {Octal(status.Permissions)}: its group may change it; chmod 600 it (640 if a group must read it)");
                return null;
            }

            if ((status.Permissions & 0x20) != 0)
            {
                warnings.Add($"{where} has mode {Octal(status.Permissions)}: members of group {status.Gid} can read the token; chmod 600 it unless they must");
            }

            byte[] bytes = new byte[status.SizeBytes];
            int read = RandomAccess.Read(handle, bytes, 0);
            string text = Encoding.UTF8.GetString(bytes, 0, read).Trim();
            if (text.Length < MinCharacters)
            {
                errors.Add($"{where} must hold a token of at least {MinCharacters} characters");
                return null;
            }

            if (text.Any(char.IsControl))
            {
                errors.Add($"{where} must hold one token on one line (control characters or several lines found)");
                return null;
            }

            return Encoding.UTF8.GetBytes(text);
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

    private static string Octal(uint mode) => "0" + Convert.ToString(mode, 8);
}
