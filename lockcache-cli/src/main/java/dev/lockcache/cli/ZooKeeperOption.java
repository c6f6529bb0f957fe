package dev.lockcache.cli;

import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * {@code --zookeeper HOST:PORT[,HOST:PORT…]}: lock through the {@code zookeeper} provider on that ensemble. Sets
 * {@code lockcache.zookeeper.connect} (and, when a shared directory is known, {@code lockcache.zookeeper.base}, so
 * hosts that mount it at different paths meet on the same lock node) before any provider is built.
 */
final class ZooKeeperOption {
    static final String PROVIDER = "zookeeper";
    static final String CONNECT_PROPERTY = "lockcache.zookeeper.connect";
    static final String BASE_PROPERTY = "lockcache.zookeeper.base";
    static final String ROOT_PROPERTY = "lockcache.zookeeper.root";

    @Option(
            names = "--zookeeper",
            paramLabel = "HOST:PORT[,HOST:PORT...]",
            description = "Lock through the zookeeper provider on this ensemble (implies --provider zookeeper). The"
                    + " lock cannot outlive lockcache: with run, the command is ended if the session is lost.")
    Optional<String> connect = Optional.empty();

    /** The provider to use: {@code zookeeper} when the option is given (refusing another named one). */
    Optional<String> apply(CommandSpec spec, Optional<String> provider, Optional<Path> sharedDirectory) {
        if (connect.isEmpty()) {
            return provider;
        }
        if (provider.isPresent() && !provider.get().strip().equals(PROVIDER)) {
            throw new ParameterException(
                    spec.commandLine(),
                    "--zookeeper locks through the zookeeper provider, but --provider " + provider.get()
                            + " was given; drop one of them");
        }
        System.setProperty(CONNECT_PROPERTY, connect.get().strip());
        sharedDirectory.ifPresent(dir -> {
            if (System.getProperty(BASE_PROPERTY) == null) {
                System.setProperty(
                        BASE_PROPERTY, dir.toAbsolutePath().normalize().toString());
            }
        });
        return Optional.of(PROVIDER);
    }
}
