using System.Collections.Immutable;
using System.Runtime.CompilerServices;

namespace LoxiLb.Edge5G.Pfcp.Node;

/// <summary>
/// The datapath-model translations of recently seen rule records, by record identity: sessions
/// made from one template share its decoded record (<see cref="Wire.RecentDecodes{T}"/>), and
/// with this they share its model object too instead of each holding a copy.
/// </summary>
/// <remarks>
/// Translating is a pure function of the record and the flag, so a hit returns what a
/// translation would. A translation that throws is not kept. Slots are replaced whole without
/// a lock.
/// </remarks>
internal sealed class RecentTranslations<TRule, TModel>(int slots) where TRule : class
{
    private sealed record Entry(TRule Rule, bool Flag, TModel Model);

    private readonly Entry?[] _slots = new Entry?[slots];

    public TModel Get(TRule rule, bool flag, Func<TRule, bool, TModel> translate)
    {
        var slot = (int)((uint)(RuntimeHelpers.GetHashCode(rule) * 2 + (flag ? 1 : 0)) % (uint)_slots.Length);
        if (Volatile.Read(ref _slots[slot]) is { } hit && ReferenceEquals(hit.Rule, rule) && hit.Flag == flag)
            return hit.Model;
        var model = translate(rule, flag);
        Volatile.Write(ref _slots[slot], new Entry(rule, flag, model));
        return model;
    }
}

/// <summary>The last FAR, QER and URR lists one node handed out (<see cref="RecentList{T}"/>).</summary>
internal sealed class RecentModelLists
{
    public RecentList<Datapath.Model.Far> Fars { get; } = new();
    public RecentList<Datapath.Model.Qer> Qers { get; } = new();
    public RecentList<Datapath.Model.Urr> Urrs { get; } = new();
}

/// <summary>
/// The last list of model rules handed out: sessions made from one template build lists of
/// equal (usually the very same, shared) immutable model records, and with this they hold one
/// list between them instead of an array each. Replaced whole without a lock (an <see cref="ImmutableArray{T}"/>
/// is one reference).
/// </summary>
internal sealed class RecentList<T> where T : class
{
    private ImmutableArray<T> _recent = [];

    /// <param name="remember">keep <paramref name="built"/> as the list to share when it is new
    /// (establishments: the next session of the template shares it; not a modification's
    /// lists, which are that session's own and would push the template's out)</param>
    public ImmutableArray<T> Share(ImmutableArray<T> built, bool remember = true)
    {
        var recent = _recent;
        if (recent.Length == built.Length)
        {
            var same = true;
            // Usually the very same objects (shared translations); equal records do as well.
            for (int i = 0; i < built.Length && same; i++)
                same = EqualityComparer<T>.Default.Equals(recent[i], built[i]);
            if (same)
                return recent;
        }
        if (remember)
            _recent = built;
        return built;
    }
}
