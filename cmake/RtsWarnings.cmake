# Warning, hardening and sanitizer flags, applied per target with rts_target_defaults().
include(CheckCCompilerFlag)

set(RTS_WARNINGS_COMMON
	-Wall -Wextra -Wformat=2 -Wshadow -Wpointer-arith -Wcast-align
	-Wwrite-strings -Wstrict-prototypes -Wmissing-prototypes -Wmissing-declarations
	-Wold-style-definition -Wredundant-decls -Wnested-externs -Wundef -Wvla
	-Wimplicit-fallthrough -Wdouble-promotion -Wfloat-equal
	-Wframe-larger-than=16384
	-Werror=implicit-function-declaration -Werror=incompatible-pointer-types
	-Werror=int-conversion -Werror=return-type)
set(RTS_WARNINGS_GCC -Wlogical-op -Wduplicated-cond -Wduplicated-branches)
set(RTS_WARNINGS_CLANG -Wcomma -Wunreachable-code)

set(_rts_cflags "")
foreach(flag IN LISTS RTS_WARNINGS_COMMON)
	list(APPEND _rts_cflags ${flag})
endforeach()
if(CMAKE_C_COMPILER_ID STREQUAL "GNU")
	list(APPEND _rts_cflags ${RTS_WARNINGS_GCC})
elseif(CMAKE_C_COMPILER_ID MATCHES "Clang")
	list(APPEND _rts_cflags ${RTS_WARNINGS_CLANG})
endif()
if(RTS_WERROR)
	list(APPEND _rts_cflags -Werror)
endif()

set(_rts_hardening "")
if(NOT RTS_SANITIZE AND NOT RTS_FUZZ AND NOT RTS_TSAN)
	check_c_compiler_flag(-fstack-protector-strong RTS_HAVE_SSP)
	check_c_compiler_flag(-fstack-clash-protection RTS_HAVE_SCP)
	if(RTS_HAVE_SSP)
		list(APPEND _rts_hardening -fstack-protector-strong)
	endif()
	if(RTS_HAVE_SCP)
		list(APPEND _rts_hardening -fstack-clash-protection)
	endif()
	if(CMAKE_BUILD_TYPE MATCHES "Rel")
		list(APPEND _rts_hardening -D_FORTIFY_SOURCE=2)
	endif()
endif()

set(RTS_SANITIZE_FLAGS -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)

# rts_target_defaults(<target>): warnings, hardening, sanitizers and the internal include path.
function(rts_target_defaults tgt)
	target_compile_options(${tgt} PRIVATE ${_rts_cflags} ${_rts_hardening})
	target_include_directories(${tgt} PRIVATE ${PROJECT_SOURCE_DIR}/common)
	if(RTS_SANITIZE)
		target_compile_options(${tgt} PRIVATE ${RTS_SANITIZE_FLAGS})
		target_link_options(${tgt} PRIVATE ${RTS_SANITIZE_FLAGS})
	endif()
	if(RTS_TSAN)
		target_compile_options(${tgt} PRIVATE -fsanitize=thread -fno-omit-frame-pointer)
		target_link_options(${tgt} PRIVATE -fsanitize=thread)
	endif()
	if(RTS_FUZZ)
		target_compile_options(${tgt} PRIVATE -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
		target_link_options(${tgt} PRIVATE -fsanitize=address,undefined)
	endif()
endfunction()

# rts_shared_library_defaults(<target> <version-script>): exported-symbol discipline for .so files.
function(rts_shared_library_defaults tgt map)
	rts_target_defaults(${tgt})
	set_target_properties(${tgt} PROPERTIES C_VISIBILITY_PRESET hidden LINK_DEPENDS ${map})
	target_link_options(${tgt} PRIVATE -Wl,--version-script=${map} -Wl,-z,relro -Wl,-z,now)
	if(NOT RTS_SANITIZE AND NOT RTS_FUZZ AND NOT RTS_TSAN)
		target_link_options(${tgt} PRIVATE -Wl,-z,defs)
	endif()
	# The build fails when a public (RTS_EXPORT) symbol is not in the version script.
	if(CMAKE_READELF)
		add_custom_command(TARGET ${tgt} POST_BUILD
			COMMAND ${CMAKE_COMMAND} -DSO=$<TARGET_FILE:${tgt}> -DMAP=${map}
				"-DOBJECTS=$<JOIN:$<TARGET_OBJECTS:${tgt}>,|>" -DREADELF=${CMAKE_READELF}
				-P ${PROJECT_SOURCE_DIR}/cmake/RtsCheckExports.cmake
			COMMENT "Checking the exports of ${tgt} against ${map}" VERBATIM)
	endif()
endfunction()
