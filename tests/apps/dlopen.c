/* dlopen: a library loaded at run time (libm, named with bake --lib), a
 * symbol from it, and the error for a library that is not there. */
#include <dlfcn.h>
#include <stdio.h>

int main(void)
{
	void *m = dlopen("libm.so.6", RTLD_NOW);
	if (!m) {
		printf("dlopen libm.so.6: %s\n", dlerror());
		return 1;
	}
	double (*cosine)(double) = (double (*)(double))dlsym(m, "cos");
	printf("cos(0) = %.1f\n", cosine ? cosine(0.0) : -1.0);
	printf("missing symbol: %s\n", dlsym(m, "no_such_symbol") ? "found" : "not found");
	printf("missing library: %s\n", dlopen("libnothere.so.1", RTLD_NOW) ? "loaded" : "not found");
	printf("dlclose: %d\n", dlclose(m));
	return 0;
}
