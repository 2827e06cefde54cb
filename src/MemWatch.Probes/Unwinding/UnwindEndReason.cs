namespace MemWatch.Probes.Unwinding;

/// <summary>Why an unwind stopped. Only <see cref="Outermost"/> means the whole stack was seen.</summary>
public enum UnwindEndReason
{
    /// <summary>The outermost frame was reached: its CFI marks the return address undefined (<c>_start</c>, <c>clone3</c>'s child) or it is 0.</summary>
    Outermost,

    /// <summary>A pc lies in no executable mapping of a module with CFI (JIT code, a corrupt return address).</summary>
    NoCfi,

    /// <summary>The module has no FDE for the pc.</summary>
    NoFde,

    /// <summary>The CFI program or an expression is malformed or uses something unsupported.</summary>
    BadCfi,

    /// <summary>A saved register or the CFA lies in memory that could not be read (or outside a copied stack).</summary>
    UnreadableMemory,

    /// <summary>The stack pointer went down or a frame repeated: a loop in corrupt or hostile data.</summary>
    Cycle,

    /// <summary>More frames than the caller allowed.</summary>
    FrameLimit,
}
