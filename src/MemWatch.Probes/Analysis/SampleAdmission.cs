namespace MemWatch.Probes.Analysis;

/// <summary>What <see cref="SampleWindow.Add"/> did with a sample.</summary>
public enum SampleAdmission
{
    /// <summary>The sample was appended (evicting the oldest when full or too old).</summary>
    Appended,

    /// <summary>The start time changed: the PID now belongs to another process. The window was cleared first.</summary>
    ProcessReplaced,

    /// <summary>The timestamp was not later than the newest sample's; the sample was dropped.</summary>
    OutOfOrder,
}
