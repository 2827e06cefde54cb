namespace MemWatch.Probes.Discovery;

/// <summary>Resolves user names to uids from an <c>/etc/passwd</c>-format file (passwd(5)); no NSS, no LDAP.</summary>
public static class UserDatabase
{
    /// <summary>Finds <paramref name="name"/> in <paramref name="passwdPath"/>; false when absent or the file is unreadable.</summary>
    public static bool TryGetUid(string name, out uint uid, string passwdPath = "/etc/passwd")
    {
        uid = 0;
        try
        {
            foreach (string line in File.ReadLines(passwdPath))
            {
                // name:password:UID:GID:GECOS:directory:shell
                string[] fields = line.Split(':');
                if (fields.Length >= 3 && fields[0] == name && uint.TryParse(fields[2], out uid))
                {
                    return true;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // No readable passwd file (a distroless image, a locked-down host): names cannot be resolved here.
        }

        uid = 0;
        return false;
    }
}
