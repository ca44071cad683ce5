using System.Text;

namespace Farabi.Data;

/// <summary>
/// Procedurally generated prose, written here, that Farabi trains on when no corpus is given
/// (<c>farabi demo</c> trains a BPE vocabulary and then a small language model on it). English text
/// is short children's stories in the spirit of TinyStories (Eldan and Li, 2023): named characters,
/// places and objects, dialogue in quotes, a problem and its solution, a little cause and effect,
/// and numbers, over a vocabulary of a few hundred words with the heavy repetition that makes such
/// text learnable by a tiny model. The Persian counterpart strings a few dozen sentence templates
/// with ZWNJ words (می‌خواست, بچه‌ها) into short stories. Both are fully determined by the seed.
/// </summary>
public static class BuiltInText
{
    /// <summary>
    /// English stories totalling about <paramref name="approxChars"/> characters (within one sentence),
    /// separated by <paramref name="storySeparator"/>.
    /// </summary>
    public static string Generate(int approxChars, int seed = 0, string storySeparator = "\n\n") =>
        Build(approxChars, storySeparator, new EnglishStories(new Random(seed)).Story);

    /// <summary>Persian stories totalling about <paramref name="approxChars"/> characters (within one sentence).</summary>
    public static string GeneratePersian(int approxChars, int seed = 0, string storySeparator = "\n\n") =>
        Build(approxChars, storySeparator, new PersianStories(new Random(seed)).Story);

    /// <summary>Appends whole sentences until the size is reached, then keeps whichever of the last two lengths is closer.</summary>
    static string Build(int approxChars, string separator, Func<List<string>> story)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(approxChars);
        var sb = new StringBuilder(approxChars + 256);
        while (sb.Length < approxChars)
        {
            if (sb.Length > 0) sb.Append(separator);
            var first = true;
            foreach (var sentence in story())
            {
                var before = sb.Length;
                if (!first) sb.Append(' ');
                sb.Append(sentence);
                first = false;
                if (sb.Length >= approxChars)
                {
                    if (approxChars - before < sb.Length - approxChars && before > 0) sb.Length = before;
                    return sb.ToString().TrimEnd();
                }
            }
        }
        return sb.ToString().TrimEnd();
    }

    sealed class EnglishStories(Random rng)
    {
        static readonly string[] Girls = ["Lily", "Mia", "Anna", "Zoe", "Nora", "Emma", "Sara", "Lucy", "Ella", "Rosa", "Maya", "Ruby"];
        static readonly string[] Boys = ["Tom", "Ben", "Sam", "Max", "Leo", "Jack", "Omar", "Finn", "Theo", "Noah", "Ali", "Hugo"];
        static readonly string[] Animals = ["cat", "dog", "bunny", "bird", "bear", "fox", "mouse", "duck", "frog", "owl"];
        static readonly string[] Traits = ["little", "kind", "curious", "brave", "happy", "shy", "clever", "funny", "gentle", "busy", "quiet", "cheerful"];
        static readonly string[] Places = ["park", "forest", "garden", "river", "lake", "beach", "farm", "market", "hill", "meadow", "village", "playground", "library", "bridge", "pond", "field"];
        static readonly (string One, string Many)[] Things =
        [
            ("ball", "balls"), ("kite", "kites"), ("box", "boxes"), ("book", "books"), ("hat", "hats"), ("apple", "apples"),
            ("key", "keys"), ("boat", "boats"), ("lamp", "lamps"), ("shell", "shells"), ("stone", "stones"), ("feather", "feathers"),
            ("coin", "coins"), ("map", "maps"), ("cup", "cups"), ("flower", "flowers"), ("basket", "baskets"), ("bell", "bells"),
            ("ring", "rings"), ("letter", "letters"), ("drum", "drums"), ("umbrella", "umbrellas"), ("blanket", "blankets"), ("cookie", "cookies"),
        ];
        static readonly string[] Colors = ["red", "blue", "green", "yellow", "shiny", "old", "big", "small", "pink", "purple", "golden", "soft"];
        static readonly string[] Activities = ["play in the garden", "read books", "draw pictures", "climb trees", "bake cookies", "sing songs",
            "fly a kite", "swim in the lake", "ride a bike", "build sand castles", "look at the stars", "pick flowers", "dance in the rain", "help in the kitchen"];
        static readonly string[] Relatives = ["mom", "dad", "grandma", "grandpa", "sister", "brother", "aunt", "uncle"];
        static readonly string[] Times = ["One day", "One morning", "One sunny afternoon", "Later that day", "The next morning", "After lunch", "In the evening", "On a rainy day"];
        static readonly string[] Feelings = ["happy", "sad", "scared", "excited", "tired", "surprised", "proud", "angry", "worried", "hungry"];
        static readonly string[] Numbers = ["two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"];
        static readonly string[] Flocks = ["ducks", "birds", "frogs", "sheep", "cows", "butterflies", "fish", "squirrels"];

        string Pick(string[] xs) => xs[rng.Next(xs.Length)];
        (string One, string Many) PickThing() => Things[rng.Next(Things.Length)];
        bool Chance(int percent) => rng.Next(100) < percent;

        sealed record Character(string Name, string Kind, string He, string His, string Him);

        Character NewCharacter(string? notNamed = null)
        {
            while (true)
            {
                var girl = rng.Next(2) == 0;
                var name = girl ? Pick(Girls) : Pick(Boys);
                if (name == notNamed) continue;
                // Two children for every animal, as in the stories this imitates.
                var kind = rng.Next(3) == 0 ? Pick(Animals) : girl ? "girl" : "boy";
                return girl ? new(name, kind, "she", "her", "her") : new(name, kind, "he", "his", "him");
            }
        }

        static string Cap(string s) => char.ToUpperInvariant(s[0]) + s[1..];

        public List<string> Story()
        {
            var hero = NewCharacter();
            var friend = NewCharacter(hero.Name);
            var place = Pick(Places);
            var thing = PickThing();
            var color = Pick(Colors);
            var relative = Pick(Relatives);
            var s = new List<string>();

            s.Add(rng.Next(3) switch
            {
                0 => $"Once upon a time, there was a {Pick(Traits)} {hero.Kind} named {hero.Name}.",
                1 => $"{hero.Name} was a {Pick(Traits)} {hero.Kind} who lived near the {place}.",
                _ => $"There once was a {hero.Kind} called {hero.Name}, and {hero.He} was very {Pick(Traits)}.",
            });
            s.Add(rng.Next(3) switch
            {
                0 => $"{Cap(hero.He)} loved to {Pick(Activities)}.",
                1 => $"Every day, {hero.He} wanted to {Pick(Activities)} with {hero.His} {relative}.",
                _ => $"{Cap(hero.His)} best friend was {friend.Name}, a {Pick(Traits)} {friend.Kind}.",
            });
            if (Chance(50)) s.Add($"{hero.Name} was {Pick(Traits)}, but sometimes {hero.He} felt {Pick(Feelings)}.");

            s.Add(rng.Next(3) switch
            {
                0 => $"{Pick(Times)}, {hero.Name} went to the {place} with {friend.Name}.",
                1 => $"{Pick(Times)}, {hero.Name} and {friend.Name} walked to the {place} together.",
                _ => $"{Pick(Times)}, {hero.Name} found a {color} {thing.One} near the {place}.",
            });
            if (Chance(60))
            {
                var n = rng.Next(2, 13);
                s.Add(rng.Next(3) switch
                {
                    0 => $"There were {Pick(Numbers)} {Pick(Flocks)} by the {place}.",
                    1 => $"They counted {n} {thing.Many} in a basket.",
                    _ => $"It was {n} o'clock, and the sun was {(n < 7 ? "going down" : "high in the sky")}.",
                });
            }

            // Dialogue.
            s.Add($"\"Look, {friend.Name}!\" said {hero.Name}. \"I see a {color} {thing.One}!\"");
            s.Add(rng.Next(3) switch
            {
                0 => $"{friend.Name} asked, \"Can I play with it too?\"",
                1 => $"\"Wow, it is so {color}!\" said {friend.Name}.",
                _ => $"{friend.Name} smiled and said, \"Let's take it home.\"",
            });
            if (Chance(50)) s.Add($"\"Yes, we can share it,\" said {hero.Name} with a smile.");

            // A problem, and what it caused.
            s.Add(rng.Next(4) switch
            {
                0 => $"But then the {thing.One} fell into the {(place is "river" or "lake" or "pond" ? place : "water")}.",
                1 => $"Suddenly, it began to rain, and the {thing.One} got wet.",
                2 => $"But the {thing.One} was stuck high up in a tree.",
                _ => $"Then a strong wind came and blew the {thing.One} away.",
            });
            var feeling = Pick(["sad", "worried", "scared", "upset"]);
            s.Add(rng.Next(3) switch
            {
                0 => $"{hero.Name} felt {feeling}, so {hero.He} began to cry.",
                1 => $"Because {hero.He} was {feeling}, {hero.Name} sat down on the grass.",
                _ => $"{hero.Name} was {feeling}. \"What can we do?\" {hero.He} asked.",
            });

            // The solution.
            s.Add(rng.Next(4) switch
            {
                0 => $"{friend.Name} had an idea. {Cap(friend.He)} used a long stick to get the {thing.One}.",
                1 => $"{friend.Name} asked {hero.His} {relative} for help, and together they got the {thing.One} back.",
                2 => $"{friend.Name} climbed up carefully and brought the {thing.One} down.",
                _ => $"They looked for {rng.Next(3, 21)} minutes, and at last {friend.Name} found the {thing.One}.",
            });
            s.Add(rng.Next(3) switch
            {
                0 => $"{hero.Name} was so {Pick(["happy", "glad", "thankful", "proud"])} that {hero.He} hugged {friend.Name}.",
                1 => $"\"Thank you, {friend.Name}!\" said {hero.Name}. \"You are a good friend.\"",
                _ => $"Now the {thing.One} was safe, and {hero.Name} felt much better.",
            });

            s.Add(rng.Next(4) switch
            {
                0 => $"From that day on, {hero.Name} and {friend.Name} were best friends.",
                1 => $"{hero.Name} went home and told {hero.His} {relative} all about it.",
                2 => $"That night, {hero.Name} dreamed about the {color} {thing.One}. The end.",
                _ => $"{hero.Name} learned that it is good to help each other.",
            });
            return s;
        }
    }

    sealed class PersianStories(Random rng)
    {
        static readonly string[] Names = ["علی", "سارا", "مریم", "رضا", "نازنین", "امید", "لیلا", "کاوه", "پریسا", "بابک", "نگار", "آرش", "شیرین", "بهرام", "ترانه", "حسن"];
        static readonly string[] Places = ["پارک", "مدرسه", "بازار", "باغ", "کتابخانه", "جنگل", "کنار دریا", "کوه", "روستا", "خانهٔ مادربزرگ", "کنار رودخانه"];
        static readonly string[] Things = ["کتاب", "توپ", "بادبادک", "سیب", "کلید", "نامه", "دوچرخه", "گل", "چتر", "عروسک", "جعبه", "کلاه", "مداد", "نقاشی"];
        static readonly string[] Adjectives = ["قرمز", "بزرگ", "کوچک", "زیبا", "قدیمی", "تازه", "سبز", "آبی", "زرد", "رنگارنگ"];
        static readonly string[] Colors = ["قرمز", "زرد", "سفید", "بنفش", "صورتی"];
        static readonly string[] Weathers = ["آفتابی", "بارانی", "سرد", "گرم", "ابری"];
        static readonly string[] Times = ["ظهر", "عصر", "شب", "غروب"];
        static readonly string[] Counts = ["دو", "سه", "چهار", "پنج", "شش", "هفت", "هشت", "نه", "ده"];

        string Pick(string[] xs) => xs[rng.Next(xs.Length)];
        static string Digits(int n) => string.Concat(n.ToString(System.Globalization.CultureInfo.InvariantCulture).Select(c => (char)('۰' + (c - '0'))));

        public List<string> Story()
        {
            var a = Pick(Names);
            var b = Pick(Names);
            while (b == a) b = Pick(Names);
            var place = Pick(Places);
            var thing = Pick(Things);
            string[] openers =
            [
                $"یک روز {a} صبح زود از خواب بیدار شد.",
                $"{a} دوچرخه‌اش را برداشت و به سمت {place} رفت.",
                $"{a} {Digits(rng.Next(6, 13))} سال داشت و هر روز به مدرسه می‌رفت.",
                $"هوا {Pick(Weathers)} بود و بچه‌ها در حیاط بازی می‌کردند.",
            ];
            string[] middles =
            [
                $"{a} می‌خواست به {place} برود.",
                $"{a} به {b} گفت: «بیا با هم به {place} برویم.»",
                $"{b} لبخند زد و گفت: «باشد، من هم می‌آیم.»",
                $"در {place} یک {thing} {Pick(Adjectives)} پیدا کردند.",
                $"{a} پرسید: «این {thing} مال کیست؟»",
                $"آن‌ها {Pick(Counts)} {thing} خریدند و به خانه برگشتند.",
                $"{a} نمی‌دانست {thing} را کجا گذاشته است.",
                $"{b} گفت: «نگران نباش، با هم پیدایش می‌کنیم.»",
                $"بعد از {Digits(rng.Next(2, 31))} دقیقه، {thing} را زیر میز پیدا کردند.",
                "مادربزرگ برای بچه‌ها یک قصهٔ قدیمی تعریف کرد.",
                $"در {place} درخت‌های بلند و گل‌های {Pick(Colors)} بود.",
                $"{a} {thing} را به {b} هدیه داد.",
                "ناگهان باران گرفت و همه زیر درخت‌ها رفتند.",
                $"{a} خیلی خوشحال شد، چون {b} به دیدنش آمده بود.",
                $"{a} از {b} پرسید: «تو هم {thing} دوست داری؟»",
                $"ساعت {Digits(rng.Next(1, 13))} بود که {a} به {place} رسید.",
                $"{a} و {b} تا {Pick(Times)} در {place} بازی کردند.",
                $"چون هوا {Pick(Weathers)} بود، {a} چترش را برداشت.",
                $"کتاب‌های {a} روی میز بود و او نمی‌خواست آن‌ها را گم کند.",
                $"پدر {a} گفت: «امروز کارهای زیادی داریم.»",
                $"بچه‌ها در راه {Pick(Counts)} پرنده روی درخت دیدند.",
                $"{a} نامه‌ای برای دوستش {b} نوشت.",
                "در بازار میوه‌های تازه و نان گرم می‌فروختند.",
                $"{b} گفت: «من هم یک {thing} {Pick(Adjectives)} دارم.»",
                $"مادر {a} پرسید: «چرا این‌قدر دیر آمدی؟»",
            ];
            string[] closers =
            [
                "آخر روز همه خسته بودند، اما خیلی خوش گذشته بود.",
                $"از آن روز به بعد، {a} و {b} دوستان خوبی شدند.",
                $"آن روز {a} چیز تازه‌ای یاد گرفت.",
                $"{a} گفت: «فردا دوباره به {place} می‌آییم.»",
                $"شب که شد، {a} به آسمان نگاه کرد و ستاره‌ها را شمرد.",
            ];
            var s = new List<string> { Pick(openers) };
            var count = rng.Next(4, 8);
            var used = new HashSet<int>();
            while (s.Count <= count)
            {
                var i = rng.Next(middles.Length);
                if (used.Add(i)) s.Add(middles[i]);
            }
            s.Add(Pick(closers));
            return s;
        }
    }
}
