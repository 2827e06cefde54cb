using MemWatch.Probes.Cgroups;
using MemWatch.Probes.ProcFs;

namespace MemWatch.Probes.Tests.Cgroups;

/// <summary>
/// Truncated, garbled and random input for every cgroup-side reader: each must either parse or throw
/// <see cref="ProcParseException"/>; nothing else (no IndexOutOfRange, Format or Overflow exceptions).
/// </summary>
public sealed class CgroupRobustnessTests
{
    private const int GarbledPerSeed = 1500;
    private const int RandomCases = 1500;

    private static readonly byte[] s_alphabet = "0123456789abcdefmax:/ \t\n=-.,\\()_"u8.ToArray().Concat(new byte[] { 0, 0xff, 0xc3 }).ToArray();

    public static TheoryData<string> Readers => new()
    {
        "cgroup", "mountinfo", "pressure", "memory.stat", "memory.events", "memory.oom_control", "limit", "value", "cgroup.procs",
    };

    [Theory]
    [MemberData(nameof(Readers))]
    public void Parse_TruncatedAtEveryByte_OnlyProcParseException(string reader)
    {
        int parsed = 0;
        int rejected = 0;
        foreach (byte[] seed in Seeds(reader))
        {
            for (int length = 0; length <= seed.Length; length++)
            {
                if (TryParse(reader, seed.AsSpan(0, length).ToArray()))
                {
                    parsed++;
                }
                else
                {
                    rejected++;
                }
            }
        }

        // Whole lines parse and cut lines (or empty input) are rejected somewhere: both paths were exercised.
        // A cut cgroup.procs is still a list of pids (a prefix of a pid is a pid), so only it never rejects.
        Assert.True(parsed > 0 && (rejected > 0 || reader == "cgroup.procs"), $"parsed {parsed}, rejected {rejected}");
    }

    [Theory]
    [MemberData(nameof(Readers))]
    public void Parse_GarbledSeeds_OnlyProcParseException(string reader)
    {
        var random = new Random(20260806 ^ reader.GetHashCode(StringComparison.Ordinal) & 0x7fff);
        int failures = 0;
        foreach (byte[] seed in Seeds(reader))
        {
            for (int i = 0; i < GarbledPerSeed; i++)
            {
                byte[] copy = (byte[])seed.Clone();
                int edits = 1 + random.Next(4);
                for (int e = 0; e < edits && copy.Length > 0; e++)
                {
                    int at = random.Next(copy.Length);
                    switch (random.Next(3))
                    {
                        case 0:
                            copy[at] = s_alphabet[random.Next(s_alphabet.Length)];
                            break;
                        case 1:
                            copy = copy.AsSpan(0, at).ToArray().Concat(copy.AsSpan(Math.Min(copy.Length, at + 1 + random.Next(8))).ToArray()).ToArray();
                            break;
                        default:
                            copy = copy.AsSpan(0, at).ToArray().Concat(Enumerable.Repeat(s_alphabet[random.Next(s_alphabet.Length)], 1 + random.Next(30))).Concat(copy.AsSpan(at).ToArray()).ToArray();
                            break;
                    }
                }

                if (!TryParse(reader, copy))
                {
                    failures++;
                }
            }
        }

        // The garbling must reach the error paths, or the test proves nothing.
        Assert.True(failures > 0, "no garbled input was rejected");
    }

    [Theory]
    [MemberData(nameof(Readers))]
    public void Parse_RandomBytes_OnlyProcParseException(string reader)
    {
        var random = new Random(4242 + reader.Length);
        for (int i = 0; i < RandomCases; i++)
        {
            byte[] data = new byte[random.Next(200)];
            for (int j = 0; j < data.Length; j++)
            {
                data[j] = random.Next(2) == 0 ? s_alphabet[random.Next(s_alphabet.Length)] : (byte)random.Next(256);
            }

            TryParse(reader, data);
        }
    }

    /// <summary>True when parsed, false on <see cref="ProcParseException"/>; any other exception fails the test.</summary>
    private static bool TryParse(string reader, byte[] data)
    {
        try
        {
            object parsed = reader switch
            {
                "cgroup" => ProcCgroup.Parse(data, reader),
                "mountinfo" => MountInfo.Parse(data, reader),
                "pressure" => PressureStall.Parse(data, reader),
                "memory.stat" => MemoryStat.Parse(data, reader),
                "memory.events" => CgroupMemoryEvents.ParseEvents(data, reader),
                "memory.oom_control" => CgroupMemoryEvents.ParseOomControl(data, reader),
                "limit" => CgroupValueFile.ParseLimit(data, reader) ?? 0UL,
                "value" => CgroupValueFile.ParseUInt64(data, reader),
                "cgroup.procs" => CgroupProcs.Parse(data, reader),
                _ => throw new ArgumentOutOfRangeException(nameof(reader)),
            };
            Assert.NotNull(parsed);
            return true;
        }
        catch (ProcParseException e)
        {
            Assert.Equal(reader, e.File);
            return false;
        }
    }

    private static IEnumerable<byte[]> Seeds(string reader)
    {
        string[] files = reader switch
        {
            "cgroup" => ["hybrid/proc/self/cgroup", "container-cgns/proc/1/cgroup", "v2-composed/proc/4400/cgroup"],
            "mountinfo" => ["hybrid/proc/self/mountinfo", "container-bind/proc/self/mountinfo", "v2-composed/proc/self/mountinfo"],
            "pressure" => ["proc-pressure-memory", "proc-pressure-cpu", "v2-composed/root/sys/fs/cgroup/system.slice/memwatch-demo.service/memory.pressure"],
            "memory.stat" => ["hybrid/root/sys/fs/cgroup/memory/memwatch-fixture/app/memory.stat", "v2-composed/root/sys/fs/cgroup/system.slice/memwatch-demo.service/memory.stat"],
            "memory.events" => ["v2-composed/root/sys/fs/cgroup/system.slice/memwatch-demo.service/memory.events"],
            "memory.oom_control" => ["v1-after-oom/memory.oom_control"],
            "limit" => ["hybrid/root/sys/fs/cgroup/memory/memory.limit_in_bytes", "v2-composed/root/sys/fs/cgroup/system.slice/memwatch-demo.service/memory.max"],
            "value" => ["v1-after-oom/memory.max_usage_in_bytes"],
            "cgroup.procs" => ["container-cgns/root/sys/fs/cgroup/memory/cgroup.procs"],
            _ => throw new ArgumentOutOfRangeException(nameof(reader)),
        };
        return files.Select(CgroupFixtures.Bytes);
    }
}
