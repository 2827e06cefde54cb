namespace MemWatch.Daemon.Cli;

/// <summary>Process exit codes of the memwatch CLI; documented in --help and the README.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>An unexpected internal error (a bug); the message says what.</summary>
    public const int Failure = 1;

    public const int BadUsage = 2;

    public const int NoSuchProcess = 3;

    public const int PermissionDenied = 4;

    /// <summary><c>memwatch gc</c>: the target has no .NET diagnostic socket.</summary>
    public const int NotDotNet = 6;
}
