from fundguard.cli.main import main

main()
