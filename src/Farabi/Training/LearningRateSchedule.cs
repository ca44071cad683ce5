namespace Farabi.Training;

/// <summary>
/// Linear warm-up, then cosine decay to a floor (Loshchilov and Hutter 2017, SGDR; the form of nanoGPT's
/// <c>get_lr</c>): the update of step <c>s</c> (0-based) uses
/// <c>lr·(s+1)/(warmup+1)</c> while <c>s &lt; warmup</c>, <c>min + ½(1 + cos πr)(lr − min)</c> with
/// <c>r = (s − warmup)/(decay − warmup)</c> until <c>decay</c>, and <c>min</c> after.
/// </summary>
public static class LearningRateSchedule
{
    /// <summary>The learning rate for the update of step <paramref name="step"/>.</summary>
    public static double At(int step, TrainerOptions options)
    {
        if (!options.DecayLearningRate) return options.LearningRate;
        var (lr, min, warmup, decay) = (options.LearningRate, options.MinLearningRate, options.WarmupSteps, options.DecayEnd);
        if (step < warmup) return lr * (step + 1) / (warmup + 1);
        if (step > decay) return min;
        if (decay == warmup) return lr;
        var ratio = (double)(step - warmup) / (decay - warmup);
        return min + 0.5 * (1 + Math.Cos(Math.PI * ratio)) * (lr - min);
    }
}
