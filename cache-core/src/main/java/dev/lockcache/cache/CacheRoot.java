package dev.lockcache.cache;

import com.google.inject.BindingAnnotation;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Qualifies the {@code Path} of the cache root in Guice. {@link CacheModule} binds a default ({@link
 * CacheDirectories#defaultRoot()}); replace it with {@code OptionalBinder.newOptionalBinder(binder(),
 * Key.get(Path.class, CacheRoot.class)).setBinding().toInstance(dir)}.
 */
@BindingAnnotation
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.FIELD, ElementType.PARAMETER, ElementType.METHOD})
public @interface CacheRoot {}
