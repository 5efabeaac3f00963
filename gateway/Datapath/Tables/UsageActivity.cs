using LoxiLb.Edge5G.Bpf;

namespace LoxiLb.Edge5G.Datapath.Tables;

/// <summary>
/// Which PDR counters moved since a usage check (maps usage_epoch and pdr_seen, see
/// edge5g_abi.h): the control side advances the epoch before it reads any counter, and the
/// program stamps each stats slot it counts on with the epoch of the moment. A session whose
/// slots carry no epoch from its last check on has counted nothing since, and its counters need
/// no reading: idle sessions cost a memory read each instead of a copy of every CPU's counters.
/// </summary>
public interface IUsageActivity
{
    /// <summary>The epoch packets are stamped with now (1 or more: a stamp of 0 is "never counted").</summary>
    ulong Epoch { get; }

    /// <summary>Starts a new epoch (before the counters of a check are read) and returns it.</summary>
    ulong Advance();

    /// <summary>The epoch of the last packet counted on a stats slot (0: none, or none since the maps were made).</summary>
    ulong LastCounted(uint statsSlot);

    /// <summary>Clears the stamps of stats slots made fresh (zeroed counters, for their next PDR).</summary>
    void Forget(ReadOnlySpan<uint> statsSlots);

    /// <summary>Was a packet counted on one of these stats slots in epoch <paramref name="since"/> or later?</summary>
    bool AnyCountedSince(Compiler.SlotMap statsSlots, ulong since)
    {
        foreach (var (_, slot) in statsSlots) // the map itself: no boxed enumerator
            if (LastCounted(slot) >= since)
                return true;
        return false;
    }
}

/// <summary>The kernel maps: the epoch written with one update, the stamps read in place from the mmap-ed array.</summary>
public sealed class BpfUsageActivity : IUsageActivity, IDisposable
{
    private readonly BpfMap<uint, ulong> _epoch;
    private readonly BpfMap<uint, ulong> _seenMap;
    private readonly BpfArrayTable<ulong> _seenTable;
    private readonly BpfMapMemory _seen;

    /// <summary>Takes both maps (disposed with this).</summary>
    public BpfUsageActivity(BpfMap<uint, ulong> epoch, BpfMap<uint, ulong> seen)
    {
        _epoch = epoch;
        _seenMap = seen;
        _seenTable = new BpfArrayTable<ulong>(seen);
        _seen = seen.MapMemory();
        // Maps adopted from an earlier process keep its epochs: go on from there, never back.
        Epoch = epoch.TryLookup(0, out var current) ? current : 0;
        // Epochs start at 1, before any session exists: a stamp of 0 is "never counted".
        if (Epoch == 0)
            Advance();
    }

    public ulong Epoch { get; private set; }

    public ulong Advance()
    {
        _epoch.Update(0, Epoch + 1);
        return ++Epoch;
    }

    public ulong LastCounted(uint statsSlot) => statsSlot < _seen.Entries ? _seen.ReadUInt64(statsSlot) : ulong.MaxValue;

    public void Forget(ReadOnlySpan<uint> statsSlots) => _seenTable.Zero(statsSlots);

    public void Dispose()
    {
        _seen.Dispose();
        _seenMap.Dispose();
        _epoch.Dispose();
    }
}

/// <summary>In memory, for tests without BPF: <see cref="Count"/> stands for the program counting a packet.</summary>
public sealed class MemoryUsageActivity(uint slots) : IUsageActivity
{
    private readonly ulong[] _seen = new ulong[slots];

    /// <summary>From 1, as the kernel's: a stamp of 0 is "never counted".</summary>
    public ulong Epoch { get; private set; } = 1;

    public ulong Advance() => ++Epoch;

    public ulong LastCounted(uint statsSlot) => statsSlot < _seen.Length ? Volatile.Read(ref _seen[statsSlot]) : ulong.MaxValue;

    public void Forget(ReadOnlySpan<uint> statsSlots)
    {
        foreach (var slot in statsSlots)
            Volatile.Write(ref _seen[slot], 0);
    }

    /// <summary>What the program does on every packet it counts on the slot.</summary>
    public void Count(uint statsSlot) => Volatile.Write(ref _seen[statsSlot], Epoch);
}
