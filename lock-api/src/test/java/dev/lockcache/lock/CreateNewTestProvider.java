package dev.lockcache.lock;

import dev.lockcache.lock.spi.Availability;
import dev.lockcache.lock.spi.HeldLock;
import dev.lockcache.lock.spi.LockFeature;
import dev.lockcache.lock.spi.LockProvider;
import dev.lockcache.lock.spi.LockRequest;
import dev.lockcache.lock.spi.ProbeResult;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;

/**
 * lock-api's own minimal cross-process provider, so that the conformance kit and the table are tested without
 * a backend module: {@code CREATE_NEW} of the owner record, delete on release, generation in a side file. No
 * stale recovery. Only in lock-api's tests; excluded from the test-jar.
 */
public final class CreateNewTestProvider implements LockProvider {

    static final String NAME = "test-create-new";

    private record Held(Path path, LockMode mode, long fencingToken, String token) implements HeldLock {}

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Set<LockFeature> features() {
        return EnumSet.of(LockFeature.CROSS_PROCESS);
    }

    @Override
    public Availability availability() {
        return Availability.available("pure JDK");
    }

    @Override
    public ProbeResult probe(Path directory) {
        return new ProbeResult(directory, ProbeResult.Verdict.EXCLUDES, "test", "CREATE_NEW is atomic on local disks");
    }

    @Override
    public Optional<HeldLock> tryLock(LockRequest request) throws IOException {
        Path generationFile = request.path().resolveSibling(request.path().getFileName() + ".gen");
        try {
            Files.createFile(request.path());
        } catch (FileAlreadyExistsException e) {
            return Optional.empty();
        }
        long generation = 1;
        try {
            generation = Long.parseLong(Files.readString(generationFile).strip()) + 1;
        } catch (NoSuchFileException | NumberFormatException e) {
            // first acquisition, or a torn write: start over above anything seen
        }
        OwnerRecord record = OwnerRecord.forThisProcess(NAME, request.mode(), generation, request.operation());
        try {
            Files.writeString(generationFile, Long.toString(generation));
            Files.write(request.path(), record.encode().bytes(), StandardOpenOption.WRITE);
        } catch (IOException e) {
            Files.delete(request.path()); // a lock whose record could not be written holds nothing
            throw e;
        }
        return Optional.of(new Held(request.path(), request.mode(), generation, record.token()));
    }

    @Override
    public void release(HeldLock lock) throws IOException {
        Held held = (Held) lock;
        LockOwner now = LockProvider.readOwnerRecordFile(held.path());
        Files.delete(held.path());
        if (!(now instanceof LockOwner.Known known) || !known.record().token().equals(held.token())) {
            throw new dev.lockcache.lock.LockLostException(
                    held.path(), "the owner record was replaced: " + now.describe());
        }
    }
}
