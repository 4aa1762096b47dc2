from follicle.cli import main

main()
