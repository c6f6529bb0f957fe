package dev.lockcache.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The README's module table as rules, checked on the compiled main classes of every module: a module that starts
 * to depend on what the table forbids fails the build. Each module has one root package, so a package rule is a
 * module rule.
 */
class ModuleRulesTest {
    private static final String API = "dev.lockcache.lock";
    private static final String SPI = "dev.lockcache.lock.spi";
    private static final List<String> BACKENDS = List.of(
            "dev.lockcache.lock.exclusive..",
            "dev.lockcache.lock.nio..",
            "dev.lockcache.lock.flock..",
            "dev.lockcache.lock.ofd..",
            "dev.lockcache.lock.zookeeper..");
    private static final String COMPOSITE = "dev.lockcache.lock.composite..";

    private static JavaClasses classes;

    @BeforeAll
    static void importClasses() {
        classes = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_JARS)
                .importPackages("dev.lockcache");
        if (classes.size() < 100) {
            // the module directories are on the class path as jars when run from an installed build
            classes = new ClassFileImporter()
                    .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                    .importPackages("dev.lockcache");
        }
    }

    @Test
    void everyModuleIsImported() {
        for (String root : List.of(
                "dev.lockcache.lock.spi.KernelLockProvider",
                "dev.lockcache.lock.flock.FlockLockProvider",
                "dev.lockcache.lock.nio.FileChannelLockProvider",
                "dev.lockcache.lock.ofd.OfdLockProvider",
                "dev.lockcache.lock.composite.DoubleLockProvider",
                "dev.lockcache.lock.exclusive.ExclusiveCreateLockProvider",
                "dev.lockcache.lock.zookeeper.ZooKeeperLockProvider",
                "dev.lockcache.cache.DatasetCache")) {
            org.assertj.core.api.Assertions.assertThat(classes.contain(root))
                    .as("imported " + root)
                    .isTrue();
        }
    }

    @Test
    void lockApiDependsOnTheJdkAndSlf4jOnly() {
        ArchRule rule = noClasses()
                .that()
                .resideInAnyPackage(API, SPI)
                .should()
                .dependOnClassesThat()
                .resideOutsideOfPackages("java..", "javax..", "jdk..", "org.slf4j..", API, SPI)
                .because("lock-api may depend on slf4j-api only (README module table)");
        rule.check(classes);
    }

    @Test
    void lockApiNamesNoBackendNorTheCache() {
        List<String> others = new java.util.ArrayList<>(BACKENDS);
        others.add(COMPOSITE);
        others.add("dev.lockcache.cache..");
        others.add("dev.lockcache.cli..");
        noClasses()
                .that()
                .resideInAnyPackage(API, SPI)
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage(others.toArray(String[]::new))
                .check(classes);
    }

    @Test
    void theSpiHoldsNoMechanismAndStartsNoProcess() {
        noClasses()
                .that()
                .resideInAPackage(SPI)
                .should()
                .callMethod(java.nio.channels.FileChannel.class, "lock", long.class, long.class, boolean.class)
                .orShould()
                .callMethod(java.nio.channels.FileChannel.class, "tryLock", long.class, long.class, boolean.class)
                .orShould()
                .dependOnClassesThat()
                .areAssignableTo(ProcessBuilder.class)
                .because("mechanisms live in their provider modules; the SPI is what every provider author needs")
                .check(classes);
    }

    @Test
    void noBackendDependsOnAnotherBackend() {
        for (String backend : BACKENDS) {
            List<String> others = new java.util.ArrayList<>(BACKENDS);
            others.remove(backend);
            others.add(COMPOSITE);
            others.add("dev.lockcache.cache..");
            others.add("dev.lockcache.cli..");
            noClasses()
                    .that()
                    .resideInAPackage(backend)
                    .should()
                    .dependOnClassesThat()
                    .resideInAnyPackage(others.toArray(String[]::new))
                    .because("a backend module never depends on another backend (README module table)")
                    .check(classes);
        }
    }

    @Test
    void theCompositeComposesFlockAndFcntlOnly() {
        noClasses()
                .that()
                .resideInAPackage(COMPOSITE)
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage(
                        "dev.lockcache.lock.exclusive..",
                        "dev.lockcache.lock.ofd..",
                        "dev.lockcache.lock.zookeeper..",
                        "dev.lockcache.cache..",
                        "dev.lockcache.cli..")
                .check(classes);
    }

    @Test
    void theCacheNamesNoBackendClass() {
        List<String> forbidden = new java.util.ArrayList<>(BACKENDS);
        forbidden.add(COMPOSITE);
        forbidden.add("dev.lockcache.cli..");
        noClasses()
                .that()
                .resideInAPackage("dev.lockcache.cache..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage(forbidden.toArray(String[]::new))
                .because("cache-core finds providers through ServiceLoader and Guice only")
                .check(classes);
    }

    @Test
    void guiceStaysInTheCache() {
        noClasses()
                .that()
                .resideOutsideOfPackages("dev.lockcache.cache..", "dev.lockcache.cli..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage("com.google.inject..")
                .because("Guice lives in cache-core only; backends stay free of it")
                .check(classes);
    }
}
