/* seed-driver.c - replays the fuzz corpus through the fuzz target with a
 * normal compiler, so every `make check` exercises the seeds. Arguments are
 * files or directories; the default is the checked-in corpus. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f) {
		perror(path);
		return 1;
	}
	do {
		if (len == cap) {
			cap = cap ? cap * 2 : 65536;
			buf = realloc(buf, cap);
			if (!buf)
				abort();
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	return 0;
}

static int run_path(const char *path, unsigned *count)
{
	struct dirent *e;
	struct stat st;
	char sub[4096];
	int failed = 0;
	DIR *dir;

	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
		++*count;
		return run_file(path);
	}
	dir = opendir(path);
	if (!dir) {
		perror(path);
		return 1;
	}
	while ((e = readdir(dir))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
		failed |= run_path(sub, count);
	}
	closedir(dir);
	return failed;
}

int main(int argc, char **argv)
{
	unsigned count = 0;
	int i, failed = 0;

	if (argc < 2)
		failed = run_path(FUZZ_CORPUS_DIR, &count);
	for (i = 1; i < argc; i++)
		failed |= run_path(argv[i], &count);
	/* a crash aborts before this line; reaching it means every seed passed */
	printf("%u passed, %d failed\n", failed ? 0 : count, failed ? 1 : 0);
	return failed || count == 0;
}
