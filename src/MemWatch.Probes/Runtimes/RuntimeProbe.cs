using MemWatch.Probes.ProcFs;
using MemWatch.Probes.Runtimes.CPython;
using MemWatch.Probes.Runtimes.Go;
using MemWatch.Probes.Runtimes.Jvm;
using MemWatch.Probes.Symbols;

namespace MemWatch.Probes.Runtimes;

/// <summary>
/// Recognises a process's language runtime from what it maps and the symbols of its executable, and reads the heap
/// figures the runtime publishes, passively: HotSpot's hsperfdata file, Go's runtime.memstats and CPython's pymalloc
/// arenas through /proc/PID/mem (no code runs in the target, nothing is written, the process is not stopped). V8
/// publishes nothing outside the process: a Node process is recognised and its declared limit read here; its heap
/// figures come only from remote calls (<see cref="Node.V8Introspection"/>, with --introspect).
/// </summary>
public static class RuntimeProbe
{
    /// <summary>The runtime of the process whose modules are <paramref name="symbols"/>.</summary>
    public static RuntimeKind Detect(TargetSymbols symbols)
    {
        ArgumentNullException.ThrowIfNull(symbols);
        foreach (TargetModule m in symbols.Modules)
        {
            string name = m.FileName;
            if (name.StartsWith("libjvm.so", StringComparison.Ordinal))
            {
                return RuntimeKind.Jvm;
            }

            if (name.StartsWith("libpython3", StringComparison.Ordinal) || m.Elf.TryFindDynamicSymbol("Py_Version", out _)
                || m.Elf.TryFindDynamicSymbol("_PyRuntime", out _))
            {
                return RuntimeKind.CPython;
            }

            if (name.StartsWith("libnode.so", StringComparison.Ordinal) || m.Elf.TryFindDynamicSymbol("napi_module_register", out _))
            {
                return RuntimeKind.Node;
            }
        }

        if (symbols.Modules.Count > 0 && IsGo(symbols.Modules[0].Elf))
        {
            return RuntimeKind.Go;
        }

        return RuntimeKind.None;
    }

    /// <summary>The runtime's heap figures now. Never throws for a target that misbehaves: the problem is in the reading.</summary>
    public static RuntimeReading Read(ProcFileSystem fs, int pid, RuntimeKind runtime, ProcStatus status, TargetSymbols? symbols)
    {
        ArgumentNullException.ThrowIfNull(fs);
        try
        {
            switch (runtime)
            {
                case RuntimeKind.Jvm:
                    return JvmHeapReader.Read(fs, pid, status);
                case RuntimeKind.Node:
                    return new RuntimeReading(RuntimeKind.Node, null, "node: V8 publishes no heap figures outside the process (--introspect asks it); its anonymous memory and faults stand in");
                case RuntimeKind.CPython or RuntimeKind.Go when symbols is not null:
                    if (!ProcMem.TryOpen(fs, pid, out ProcMem? memory))
                    {
                        return new RuntimeReading(runtime, null, $"{runtime.ToName()}: /proc/{pid}/mem is not readable (needs ptrace access)");
                    }

                    using (memory)
                    {
                        return runtime == RuntimeKind.CPython ? PymallocReader.Read(symbols, memory) : GoHeapReader.Read(symbols, memory);
                    }

                default:
                    return new RuntimeReading(runtime, null, null);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ProcParseException or ArgumentException)
        {
            return new RuntimeReading(runtime, null, $"{runtime.ToName()}: {e.Message}");
        }
    }

    private static bool IsGo(ElfFile exe)
    {
        foreach (ElfSection s in exe.Sections)
        {
            if (s.Name is ".go.buildinfo" or ".gopclntab")
            {
                return true;
            }
        }

        return exe.TryFindSymbol("runtime.buildVersion", out _);
    }
}
