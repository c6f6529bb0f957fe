package dev.lockcache.cache;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A child process for the cross-process tests. {@code fetch ROOT URL SHA256 TARGET POLICY}: prints {@code ready},
 * waits for {@code go} on standard input, prints {@code fetching}, fetches under POLICY and prints {@code ok
 * SHA256-OF-TARGET}. {@code crash ROOT TARGET}: fetches with a producer that writes part of the data and halts
 * the JVM inside the lock, as a kill -9 would.
 */
public final class FetchChild {

    private FetchChild() {}

    public static void main(String[] args) throws Exception {
        Path root = Path.of(args[1]);
        DatasetCache.Builder cache = DatasetCache.builder().root(root).providerChoice(ProviderChoice.automatic());
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
