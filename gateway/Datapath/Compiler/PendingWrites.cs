using System.Runtime.InteropServices;
using LoxiLb.Edge5G.Datapath.Abi;
using LoxiLb.Edge5G.Datapath.Tables;

namespace LoxiLb.Edge5G.Datapath.Compiler;

/// <summary>
/// The map writes of establishments held back so that a batch of them costs one syscall per
/// map instead of one per entry (a group commit). Only what nothing reaches yet is held: the
/// entries in fresh slots, and the keys that publish them. The keys go last, after every
/// slot of every held session, so no packet sees a half-written session. Each write keeps its
/// session's SEID, so a write that fails withdraws that session only.
/// </summary>
internal sealed class PendingWrites
{
    private interface IHeldTable
    {
        int Count { get; }
        void Truncate(int count);
        /// <summary>Writes the table's queue in one call; on failure one at a time, skipping (and adding to) <paramref name="failed"/>.</summary>
        void Flush(HashSet<ulong> failed, List<Exception> errors);
    }

    private sealed class HeldTable<TKey, TValue>(IMapTable<TKey, TValue> table) : IHeldTable
        where TKey : unmanaged where TValue : unmanaged
    {
        private readonly List<TKey> _keys = [];
        private readonly List<TValue> _values = [];
        private readonly List<ulong> _owners = [];

        public IMapTable<TKey, TValue> Table => table;
        public int Count => _keys.Count;

        public void Add(in TKey key, in TValue value, ulong owner)
        {
            _keys.Add(key);
            _values.Add(value);
            _owners.Add(owner);
        }

        public void Truncate(int count)
        {
            _keys.RemoveRange(count, _keys.Count - count);
            _values.RemoveRange(count, _values.Count - count);
            _owners.RemoveRange(count, _owners.Count - count);
        }

        public void Flush(HashSet<ulong> failed, List<Exception> errors)
        {
            if (_keys.Count == 0)
                return;
            if (failed.Count == 0)
            {
                try
                {
                    table.PutMany(CollectionsMarshal.AsSpan(_keys), CollectionsMarshal.AsSpan(_values));
                    Truncate(0);
                    return;
                }
                catch (Exception e)
                {
                    errors.Add(e); // a leading part may be written: the loop below writes it again
                }
            }
            // One at a time: what belongs to a session that already failed is not written.
            for (int i = 0; i < _keys.Count; i++)
            {
                if (failed.Contains(_owners[i]))
                    continue;
                try
                {
                    table.Put(_keys[i], _values[i]);
                }
                catch (Exception e)
                {
                    errors.Add(e);
                    failed.Add(_owners[i]);
                }
            }
            Truncate(0);
        }
    }

    private readonly IHeldTable[] _tables;
    private readonly int[] _marks;
    // What a commit found, reused from commit to commit (one per receive batch).
    private readonly HashSet<ulong> _failed = [];
    private readonly List<Exception> _errors = [];

    public PendingWrites(DatapathTables tables)
    {
        // The flush order: every slot table, then the tables that publish (keys, dense slots).
        _tables =
        [
            new HeldTable<uint, QerEntry>(tables.Qers), new HeldTable<uint, PdrEntry>(tables.Pdrs),
            new HeldTable<uint, SdfEntry>(tables.SdfFilters),
            new HeldTable<uint, RuleListEntry>(tables.RuleLists), new HeldTable<uint, MatchEntry>(tables.Matches),
            new HeldTable<uint, TeidSlot>(tables.TeidSlots), new HeldTable<uint, Ue4Slot>(tables.Ue4Slots),
            new HeldTable<FteidKey, MatchEntry>(tables.Fteids), new HeldTable<uint, MatchEntry>(tables.Ue4),
            new HeldTable<Ue6Key, MatchEntry>(tables.Ue6), new HeldTable<RouteKey, MatchEntry>(tables.FramedRoutes),
        ];
        _marks = new int[_tables.Length];
    }

    /// <summary>Writes held, in all tables.</summary>
    public int Count
    {
        get
        {
            int n = 0;
            foreach (var q in _tables)
                n += q.Count;
            return n;
        }
    }

    public void Add<TKey, TValue>(IMapTable<TKey, TValue> table, in TKey key, in TValue value, ulong owner)
        where TKey : unmanaged where TValue : unmanaged
    {
        foreach (var q in _tables)
        {
            if (q is HeldTable<TKey, TValue> typed && ReferenceEquals(typed.Table, table))
            {
                typed.Add(key, value, owner);
                return;
            }
        }
        throw new InvalidOperationException("this table's writes are never held back");
    }

    /// <summary>Remembers how far each table's queue is, for <see cref="RollBack"/> (one session's apply).</summary>
    public void Mark()
    {
        for (int i = 0; i < _tables.Length; i++)
            _marks[i] = _tables[i].Count;
    }

    /// <summary>Drops what was held since <see cref="Mark"/> (an apply that failed).</summary>
    public void RollBack()
    {
        for (int i = 0; i < _tables.Length; i++)
            _tables[i].Truncate(_marks[i]);
    }

    /// <summary>
    /// Writes everything held, in the flush order. Returns the SEIDs of the sessions with a
    /// write the kernel refused (their later writes were skipped), and the errors; both are
    /// emptied by the next call.
    /// </summary>
    public (HashSet<ulong> Failed, List<Exception> Errors) Flush()
    {
        _failed.Clear();
        _errors.Clear();
        foreach (var q in _tables)
            q.Flush(_failed, _errors);
        return (_failed, _errors);
    }
}
