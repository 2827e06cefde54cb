using System.Runtime.InteropServices;

namespace MemWatch.TestSupport;

/// <summary>
/// Runs code with file access checked as an unprivileged user, inside a test process that runs as root: on a thread
/// of its own, setfsuid(nobody) drops CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH for that thread only (capabilities(7)),
/// so a mode 000 file gives a real EACCES. The thread ends with the action, taking the changed identity with it.
/// </summary>
public static class UnprivilegedFiles
{
    public const int Nobody = 65534;

    public static void Run(Action action)
    {
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                SetFsUid(Nobody);
                if (SetFsUid(-1) != Nobody)
                {
                    throw new InvalidOperationException("setfsuid(nobody) did not take effect");
                }

                action();
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        thread.Join();
        if (failure is not null)
        {
            throw new AggregateException("the action failed as an unprivileged user", failure);
        }
    }

    // setfsuid returns the previous fsuid whatever happens; -1 changes nothing and so reads it.
    [DllImport("libc", EntryPoint = "setfsuid")]
    private static extern int SetFsUid(int uid);
}
