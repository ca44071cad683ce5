namespace Farabi.Research.WeakToStrong;

/// <summary>
/// The data split of Burns et al. (2023, arXiv 2312.09390): a training set cut into two disjoint halves. The weak
/// supervisor learns from half A's ground truth; it then labels half B, on which the strong student learns (and the
/// strong ceiling learns from B's ground truth). Keeping A and B disjoint is what makes the weak labels on B honest
/// predictions rather than memorised answers.
/// </summary>
/// <param name="A">Indices (into the training set) of the weak supervisor's half.</param>
/// <param name="B">Indices of the student's half (the rest).</param>
public sealed record WeakLabelSplit(int[] A, int[] B)
{
    /// <summary>
    /// Shuffles <c>0..count-1</c> with <paramref name="seed"/> and cuts it into A (the first half, rounded down) and B
    /// (the rest). The same seed always gives the same halves.
    /// </summary>
    /// <exception cref="ArgumentException">Fewer than two examples.</exception>
    public static WeakLabelSplit Create(int count, int seed)
    {
        if (count < 2) throw new ArgumentException($"A weak/strong split needs at least 2 training examples, got {count}.");
        var order = Enumerable.Range(0, count).ToArray();
        new Random(seed).Shuffle(order);
        var half = count / 2;
        return new WeakLabelSplit(order[..half], order[half..]);
    }

    /// <summary>The items of <paramref name="items"/> at <paramref name="indices"/>.</summary>
    public static List<T> Take<T>(IReadOnlyList<T> items, IEnumerable<int> indices) => indices.Select(i => items[i]).ToList();
}
