/* test-main.c - runs every group of libocispec unit tests. */
#include "helpers.h"

int main(void)
{
	int failed = 0;

	failed += run_roundtrip_tests();
	failed += run_error_tests();
	failed += run_api_tests();
	return failed ? 1 : 0;
}
