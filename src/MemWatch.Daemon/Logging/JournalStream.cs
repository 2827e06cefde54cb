using System.Globalization;
using MemWatch.Probes.Files;
using Microsoft.Win32.SafeHandles;

namespace MemWatch.Daemon.Logging;

/// <summary>
/// Whether standard output is systemd's journal: <c>JOURNAL_STREAM</c> holds the device and inode of the journal's
/// stream (systemd.exec(5)), and it counts only while descriptor 1 is still that stream (a shell under the unit that
/// redirected it is not the journal).
/// </summary>
internal static class JournalStream
{
    public static bool IsStandardOutput(string? journalStream)
    {
        if (journalStream is null || journalStream.Split(':') is not [string dev, string ino]
            || !ulong.TryParse(dev, NumberStyles.None, CultureInfo.InvariantCulture, out ulong device)
            || !ulong.TryParse(ino, NumberStyles.None, CultureInfo.InvariantCulture, out ulong inode))
        {
            return false;
        }

        try
        {
            using var stdout = new SafeFileHandle(1, ownsHandle: false);
            FileStatus status = CheckedFile.Stat(stdout, "standard output");
            return status.DeviceNumber == device && status.Inode == inode;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Standard output closed: nothing is written there anyway.
            return false;
        }
    }
}
