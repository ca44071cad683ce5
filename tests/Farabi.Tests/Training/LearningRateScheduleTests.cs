using Farabi.Training;
using Xunit;

namespace Farabi.Tests.Training;

public sealed class LearningRateScheduleTests
{
    static readonly TrainerOptions Recipe = new() { LearningRate = 1e-3, MinLearningRate = 1e-4, WarmupSteps = 100, LrDecaySteps = 2000, MaxSteps = 2000 };

    [Fact]
    public void Warm_up_rises_linearly_to_the_peak()
    {
        Assert.Equal(1e-3 / 101, LearningRateSchedule.At(0, Recipe), 12);
        Assert.Equal(1e-3 * 50 / 101, LearningRateSchedule.At(49, Recipe), 12);
        Assert.Equal(1e-3 * 100 / 101, LearningRateSchedule.At(99, Recipe), 12);
        Assert.Equal(1e-3, LearningRateSchedule.At(100, Recipe), 12);
    }

    [Fact]
    public void Cosine_is_halfway_at_the_midpoint_and_reaches_the_floor()
    {
        Assert.Equal((1e-3 + 1e-4) / 2, LearningRateSchedule.At(1050, Recipe), 12);
        Assert.Equal(1e-4, LearningRateSchedule.At(2000, Recipe), 12);
        Assert.Equal(1e-4, LearningRateSchedule.At(5000, Recipe), 12);
        Assert.True(LearningRateSchedule.At(500, Recipe) > LearningRateSchedule.At(1500, Recipe));
    }

    [Fact]
    public void Without_decay_the_rate_is_constant()
    {
        var constant = Recipe with { DecayLearningRate = false };
        Assert.Equal(1e-3, LearningRateSchedule.At(0, constant));
        Assert.Equal(1e-3, LearningRateSchedule.At(3000, constant));
    }
}
