namespace MemWatch.Probes.DotNet;

/// <summary>One field of an event's payload as its metadata describes it; an Object field has fields of its own.</summary>
/// <param name="Name">The field's name.</param>
/// <param name="Type">System.TypeCode as EventPipe writes it (Object = 1 nests).</param>
/// <param name="Fields">The nested fields of an Object, else empty.</param>
internal sealed record NetTraceField(string Name, TypeCode Type, IReadOnlyList<NetTraceField> Fields);
