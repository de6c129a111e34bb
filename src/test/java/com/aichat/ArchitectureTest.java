package com.aichat;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The layering rules of docs/architecture.md, checked on the compiled main classes. */
@DisplayName("Architecture: the layers of docs/architecture.md hold")
class ArchitectureTest {

  private static final String EMBEDDED = "com.aichat.embedded..";
  private static final String STORAGE = "com.aichat.persistence.impl..";

  private static JavaClasses main;

  @BeforeAll
  static void importMainClasses() {
    main = new ClassFileImporter()
        .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
        .importPackages("com.aichat");
  }

  @Test
  @DisplayName("no two packages depend on each other, directly or around a cycle")
  void noPackageCycles() {
    slices().matching("com.aichat.(**)").should().beFreeOfCycles().check(main);
  }

  @Test
  @DisplayName("the embedded engine imports nothing of the service")
  void embeddedEngineStandsAlone() {
    noClasses().that().resideInAPackage(EMBEDDED)
        .should().dependOnClassesThat().resideOutsideOfPackages(EMBEDDED, "java..", "javax..", "org.slf4j..",
            "de.bwaldvogel..", "org.h2..", "io.netty..", "org.bson..")
        .check(main);
  }

  @Test
  @DisplayName("the service reaches the embedded engine only through its one adapter")
  void embeddedEngineOnlyThroughItsAdapter() {
    classes().that().resideInAPackage(EMBEDDED)
        .should().onlyHaveDependentClassesThat(
            com.tngtech.archunit.base.DescribedPredicate.describe("in the engine or its adapter",
                c -> c.getPackageName().startsWith("com.aichat.embedded")
                    || c.getName().startsWith("com.aichat.persistence.service.EmbeddedDatabase")))
        .check(main);
  }

  @Test
  @DisplayName("storage classes never touch the event bus")
  void storageDoesNotTouchTheBus() {
    noClasses().that().resideInAPackage(STORAGE)
        .should().dependOnClassesThat().resideInAPackage("io.vertx.core.eventbus..")
        .orShould().callMethod(Vertx.class, "eventBus")
        .check(main);
  }

  @Test
  @DisplayName("storage classes do not depend on the service layer or the bus plumbing above them")
  void storageOnlyReadsAndWrites() {
    noClasses().that().resideInAPackage(STORAGE)
        .should().dependOnClassesThat().resideInAnyPackage("com.aichat.persistence.service..",
            "com.aichat.ai..", "com.aichat.api..", "com.aichat.gateway..", "com.aichat.dispatch..", "com.aichat.jobs..")
        .check(main);
  }

  @Test
  @DisplayName("each caller of the store holds only the interface it needs (docs/architecture.md §2)")
  void callersHoldTheirOwnStoreInterface() {
    String conversations = "com.aichat.persistence.Conversations";
    String generations = "com.aichat.persistence.Generations";
    String jobs = "com.aichat.persistence.Jobs";
    String recovery = "com.aichat.persistence.Recovery";
    noClasses().that().resideInAnyPackage("com.aichat.api..", "com.aichat.gateway..")
        .should().dependOnClassesThat().haveNameMatching(regex(generations, jobs, recovery))
        .check(main);
    noClasses().that().resideInAPackage("com.aichat.dispatch..")
        .should().dependOnClassesThat().haveNameMatching(regex(conversations, generations, jobs))
        .check(main);
    noClasses().that().resideInAPackage("com.aichat.jobs..")
        .should().dependOnClassesThat().haveNameMatching(regex(generations, recovery))
        .check(main);
    noClasses().that().resideInAPackage("com.aichat.ai..")
        .should().dependOnClassesThat().haveNameMatching(regex(recovery))
        .check(main);
  }

  @Test
  @DisplayName("only the persistence service serves the store on the bus")
  void onlyThePersistenceServiceServes() {
    noClasses().that().resideOutsideOfPackages("com.aichat.persistence.service..", "com.aichat.persistence.binding..")
        .should().dependOnClassesThat().haveFullyQualifiedName("com.aichat.persistence.binding.BusService")
        .check(main);
  }

  /** A regex matching the named classes and their nested types. */
  private static String regex(String... names) {
    return "(" + String.join("|", java.util.Arrays.stream(names).map(n -> n.replace(".", "\\.")).toList())
        + ")(\\$.*)?";
  }
}
