package dev.lockcache.cache;

import dev.lockcache.lock.ProviderChoice;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A child process for the cross-process tests. {@code fetch ROOT URL SHA256 TARGET POLICY}: prints {@code ready},
 * waits for {@code go} on standard input, prints {@code fetching}, fetches under POLICY and prints {@code ok
 * SHA256-OF-TARGET}. {@code crash ROOT TARGET}: fetches with a producer that writes part of the data and halts
 * the JVM inside the lock, as a kill -9 would. {@code produce ROOT TARGET} fetches {@link #fixedSpec} and prints
 * {@code ok}; {@code readonly ROOT WORKDIR} tries a warm hit, a new mirror, NEVER and ALWAYS on it and prints one
 * {@code STEP ok CONTENT} or {@code STEP error MESSAGE} line each.
 */
public final class FetchChild {

    private FetchChild() {}

    /** The dataset of {@code produce} and {@code readonly}: fixed bytes; in a read-only child, never produced. */
    static DatasetSpec fixedSpec(boolean mustNotRun) {
        return DatasetSpec.of(
                "fixed",
                DatasetSource.producer("fixed", t -> {
                    if (mustNotRun) {
                        throw new IllegalStateException("a read-only cache must not fetch");
                    }
                    Files.writeString(t, "fixed bytes");
                }),
                "fixed.txt");
    }

    public static void main(String[] args) throws Exception {
        Path root = Path.of(args[1]);
        DatasetCache.Builder cache = DatasetCache.builder().root(root).providerChoice(ProviderChoice.automatic());
        if (args[0].equals("produce") || args[0].equals("readonly")) {
            boolean readOnly = args[0].equals("readonly");
            DatasetCache fixed = cache.register(fixedSpec(readOnly)).build();
            if (!readOnly) {
                fixed.fetch("fixed", Path.of(args[2]));
                System.out.println("ok");
                return;
            }
            Path work = Path.of(args[2]);
            String[] steps = {"entry", "mirror", "never", "always"};
            for (String step : steps) {
                try {
                    Path got = switch (step) {
                        case "entry" -> fixed.fetch("fixed");
                        case "mirror" -> fixed.fetch("fixed", work.resolve("mirror.txt"));
                        case "never" -> fixed.fetch("fixed", work.resolve("never.txt"), FetchPolicy.NEVER);
                        default -> fixed.fetch("fixed", work.resolve("always.txt"), FetchPolicy.ALWAYS);
                    };
                    System.out.println(step + " ok " + Files.readString(got));
                } catch (RuntimeException e) {
                    System.out.println(step + " error " + e.getMessage());
                }
            }
            return;
        }
        if (args[0].equals("progress")) {
            // progress ROOT URL SHA256 TARGET: fetches, printing "progress BYTES" as the file grows, then "ok"
            DatasetCache web = cache.register(DatasetSpec.of("big", DatasetSource.url(args[2]), "big.bin")
                            .withSha256(args[3]))
                    .build();
            web.fetch("big", Path.of(args[4]), web.defaultOptions().withProgress((key, bytes, total) -> {
                System.out.println("progress " + bytes);
                System.out.flush();
            }));
            System.out.println("ok");
            return;
        }
        if (args[0].equals("crash")) {
            DatasetCache crashing = cache.register(DatasetSpec.of(
                            "crashy",
                            DatasetSource.producer("halts half-way", target -> {
                                Files.writeString(target, "half of the da");
                                System.out.println("writing");
                                System.out.flush();
                                Runtime.getRuntime().halt(17);
                            }),
                            "data.txt"))
                    .build();
            crashing.fetch("crashy", Path.of(args[2]));
            return;
        }
        DatasetCache fetching = cache.register(DatasetSpec.of("web", DatasetSource.url(args[2]), "body.bin")
                        .withSha256(args[3]))
                .build();
        System.out.println("ready");
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        if (!"go".equals(in.readLine())) {
            System.exit(2);
        }
        System.out.println("fetching");
        try {
            Path got = fetching.fetch("web", Path.of(args[4]), FetchPolicy.valueOf(args[5]));
            System.out.println("ok " + TestData.sha256(Files.readAllBytes(got)));
        } catch (RuntimeException e) {
            System.out.println("error " + e);
            System.exit(1);
        }
    }
}
