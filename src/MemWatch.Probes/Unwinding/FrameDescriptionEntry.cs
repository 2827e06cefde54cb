namespace MemWatch.Probes.Unwinding;

/// <summary>A parsed FDE (DWARF 5 §6.4.1): the code range [PcBegin, PcEnd) in the file's link-time addresses and its CFA program.</summary>
internal readonly record struct FrameDescriptionEntry(
    int Offset,
    ulong PcBegin,
    ulong PcEnd,
    int InstructionsStart,
    int InstructionsEnd,
    CommonInformationEntry Cie);
